; Names used in Ruby code, for cross-file context.

(call method: (identifier) @reference.call)
(constant) @reference.type
(identifier) @reference.name
