; Names used in C code, for cross-file context.

(call_expression function: (identifier) @reference.call)
(type_identifier) @reference.type
(identifier) @reference.name
(field_identifier) @reference.name
