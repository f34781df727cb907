; Names used in shell scripts, for cross-file context: commands (functions) and variables.

(command_name (word) @reference.call)
(variable_name) @reference.name
