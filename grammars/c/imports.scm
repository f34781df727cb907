; Headers a C file includes (@import; quotes and angle brackets are stripped by the indexer).

(preproc_include path: [(string_literal) (system_lib_string)] @import)
