; Headers a C++ file includes (@import) and namespaces it uses.

(preproc_include path: [(string_literal) (system_lib_string)] @import)
(using_declaration "namespace" (_) @import)
