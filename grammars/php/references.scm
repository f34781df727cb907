; Names used in PHP code, for cross-file context.

(function_call_expression function: [(name) (qualified_name)] @reference.call)
(member_call_expression name: (name) @reference.call)
(scoped_call_expression name: (name) @reference.call)
(object_creation_expression [(name) (qualified_name)] @reference.type)
(named_type) @reference.type
(name) @reference.name
