; Definitions in Ruby: classes, modules, methods (instance and singleton) and constants.
; Conventions: slm_lsp/workspace/symbols.py.

(class name: [(constant) (scope_resolution name: (_))] @name) @definition.class
(singleton_class value: (_) @name) @definition.class
(module name: [(constant) (scope_resolution name: (_))] @name) @definition.module
(method name: (_) @name) @definition.method
(singleton_method name: (_) @name) @definition.method
(assignment left: (constant) @name) @definition.constant
