; Paths a Rust file imports (@import): use declarations, extern crates and out-of-line modules.

(use_declaration argument: (_) @import)
(extern_crate_declaration name: (identifier) @import)
(mod_item name: (identifier) @import !body)
