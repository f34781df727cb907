; Names used in Go code, for cross-file context.

(call_expression function: (identifier) @reference.call)
(call_expression function: (selector_expression field: (field_identifier) @reference.call))
(composite_literal type: (type_identifier) @reference.type)
(type_identifier) @reference.type
(identifier) @reference.name
(field_identifier) @reference.name
