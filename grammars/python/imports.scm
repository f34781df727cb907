; Modules a Python file imports (@import) and the names it takes from them (@import.name).

(import_statement name: (dotted_name) @import)
(import_statement name: (aliased_import name: (dotted_name) @import))
(import_from_statement
  module_name: [(dotted_name) (relative_import)] @import
  name: [(dotted_name) (aliased_import name: (dotted_name))] @import.name)
(import_from_statement
  module_name: [(dotted_name) (relative_import)] @import
  (wildcard_import))
