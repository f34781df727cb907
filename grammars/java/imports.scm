; Classes and packages a Java file imports (@import).

(import_declaration [(scoped_identifier) (identifier)] @import)
