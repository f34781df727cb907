; Packages a Go file imports (@import; the quotes are stripped by the indexer).

(import_spec path: (interpreted_string_literal) @import)
