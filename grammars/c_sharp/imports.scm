; Namespaces a C# file uses (@import).

(using_directive [(identifier) (qualified_name)] @import)
