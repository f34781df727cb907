; Definitions in shell scripts: functions and top-level variables (UPPER_CASE ones are constants).
; Conventions: slm_lsp/workspace/symbols.py.

(function_definition name: (word) @name) @definition.function

((program (variable_assignment name: (variable_name) @name) @definition.constant)
 (#match? @name "^[A-Z][A-Z0-9_]*$"))
((program (variable_assignment name: (variable_name) @name) @definition.variable)
 (#not-match? @name "^[A-Z][A-Z0-9_]*$"))
