; Names used in Rust code, for cross-file context.

(call_expression function: (identifier) @reference.call)
(call_expression function: (field_expression field: (field_identifier) @reference.call))
(call_expression function: (scoped_identifier name: (identifier) @reference.call))
(macro_invocation macro: (identifier) @reference.call)
(struct_expression name: (type_identifier) @reference.type)
(type_identifier) @reference.type
(identifier) @reference.name
(field_identifier) @reference.name
