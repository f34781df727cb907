; Files a Ruby file requires (@import).

((call
   method: (identifier) @_m
   arguments: (argument_list . (string (string_content) @import)))
 (#match? @_m "^(require|require_relative|load|autoload)$"))
