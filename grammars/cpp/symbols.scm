; Definitions in C++: namespaces, classes, structs, unions, enums, typedefs and aliases,
; functions and methods (in-class declarations, inline definitions, and ``Class::method``
; definitions outside the class, whose scope names the container), templates, macros.
; Conventions: slm_lsp/workspace/symbols.py.

(namespace_definition name: [(namespace_identifier) (nested_namespace_specifier)] @name body: (_)) @definition.namespace
(class_specifier name: (type_identifier) @name body: (_)) @definition.class
(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
(union_specifier name: (type_identifier) @name body: (_)) @definition.struct
(enum_specifier name: (type_identifier) @name body: (_)) @definition.enum
(type_definition declarator: (type_identifier) @name) @definition.type
(alias_declaration name: (type_identifier) @name) @definition.type
(preproc_def name: (identifier) @name) @definition.constant
(preproc_function_def name: (identifier) @name) @definition.macro

(function_definition
  declarator: [(function_declarator declarator: [(identifier) (field_identifier) (operator_name) (destructor_name)] @name)
               (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier)] @name))
               (reference_declarator (function_declarator declarator: [(identifier) (field_identifier)] @name))]) @definition.function

(function_definition
  declarator: [(function_declarator declarator: (qualified_identifier scope: (namespace_identifier) @scope name: [(identifier) (destructor_name) (operator_name)] @name))
               (pointer_declarator declarator: (function_declarator declarator: (qualified_identifier scope: (namespace_identifier) @scope name: (identifier) @name)))
               (reference_declarator (function_declarator declarator: (qualified_identifier scope: (namespace_identifier) @scope name: (identifier) @name)))]) @definition.method

(field_declaration_list
  [(field_declaration declarator: (function_declarator declarator: [(field_identifier) (identifier) (operator_name) (destructor_name)] @name))
   (declaration declarator: (function_declarator declarator: [(identifier) (destructor_name)] @name))] @definition.function)

(translation_unit
  (declaration declarator: (function_declarator declarator: (identifier) @name)) @definition.function)
(declaration_list
  (declaration declarator: (function_declarator declarator: (identifier) @name)) @definition.function)
