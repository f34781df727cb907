; Modules a TSX file imports (@import) and the names it takes (@import.name).

(import_statement source: (string (string_fragment) @import))
(export_statement source: (string (string_fragment) @import))
(import_specifier name: (identifier) @import.name)
(import_clause (identifier) @import.name)
(import_require_clause source: (string (string_fragment) @import))
((call_expression
   function: (identifier) @_req
   arguments: (arguments . (string (string_fragment) @import)))
 (#eq? @_req "require"))
