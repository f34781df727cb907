; Definitions in Java: classes, interfaces, enums, records, annotation types, methods,
; constructors and fields (UPPER_CASE fields are constants). Conventions: slm_lsp/workspace/symbols.py.

(class_declaration name: (identifier) @name) @definition.class
(interface_declaration name: (identifier) @name) @definition.interface
(enum_declaration name: (identifier) @name) @definition.enum
(record_declaration name: (identifier) @name) @definition.class
(annotation_type_declaration name: (identifier) @name) @definition.interface
(method_declaration name: (identifier) @name) @definition.method
(constructor_declaration name: (identifier) @name) @definition.constructor

((field_declaration declarator: (variable_declarator name: (identifier) @name)) @definition.constant
 (#match? @name "^[A-Z][A-Z0-9_]*$"))
((field_declaration declarator: (variable_declarator name: (identifier) @name)) @definition.field
 (#not-match? @name "^[A-Z][A-Z0-9_]*$"))
