; Definitions in JavaScript: functions, generators, classes and methods, functions bound to
; names, and top-level variables (UPPER_CASE ones are constants). Conventions: slm_lsp/workspace/symbols.py.

(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
(class_declaration name: (identifier) @name) @definition.class
(method_definition name: [(property_identifier) (private_property_identifier)] @name) @definition.method

(variable_declarator
  name: (identifier) @name
  value: [(arrow_function body: (_) @body) (function_expression body: (_) @body) (generator_function body: (_) @body)]) @definition.function

(assignment_expression
  left: (member_expression property: (property_identifier) @name)
  right: [(arrow_function body: (_) @body) (function_expression body: (_) @body)]) @definition.function

(program
  [(lexical_declaration (variable_declarator name: (identifier) @name value: (_)? @_v) @definition.constant)
   (variable_declaration (variable_declarator name: (identifier) @name value: (_)? @_v) @definition.constant)
   (export_statement (lexical_declaration (variable_declarator name: (identifier) @name value: (_)? @_v) @definition.constant))]
  (#match? @name "^[A-Z][A-Z0-9_]*$"))

(program
  [(lexical_declaration (variable_declarator name: (identifier) @name value: (_)? @_v) @definition.variable)
   (variable_declaration (variable_declarator name: (identifier) @name value: (_)? @_v) @definition.variable)
   (export_statement (lexical_declaration (variable_declarator name: (identifier) @name value: (_)? @_v) @definition.variable))]
  (#not-match? @name "^[A-Z][A-Z0-9_]*$"))
