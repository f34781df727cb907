; Namespaces a PHP file uses and files it includes (@import).

(namespace_use_clause [(qualified_name) (name)] @import)
(require_once_expression [(string (string_content) @import) (encapsed_string (string_content) @import)])
(require_expression [(string (string_content) @import) (encapsed_string (string_content) @import)])
(include_expression [(string (string_content) @import) (encapsed_string (string_content) @import)])
(include_once_expression [(string (string_content) @import) (encapsed_string (string_content) @import)])
