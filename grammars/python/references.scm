; Names used in Python code, for cross-file context: calls, types, and any other identifier.

(call function: (identifier) @reference.call)
(call function: (attribute attribute: (identifier) @reference.call))
(type (identifier) @reference.type)
(type (generic_type (identifier) @reference.type))
(class_definition superclasses: (argument_list (identifier) @reference.type))
(decorator (identifier) @reference.call)
(identifier) @reference.name
