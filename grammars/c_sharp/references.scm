; Names used in C# code, for cross-file context.

(invocation_expression function: (identifier) @reference.call)
(invocation_expression function: (member_access_expression name: (identifier) @reference.call))
(object_creation_expression type: (identifier) @reference.type)
(base_list (identifier) @reference.type)
(identifier) @reference.name
