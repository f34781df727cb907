; Files a shell script sources (@import).

((command
   name: (command_name (word) @_cmd)
   argument: [(word) (string) (raw_string)] @import)
 (#match? @_cmd "^(source|\\.)$"))
