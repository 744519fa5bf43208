; `use` declarations, decoded into (local name -> path) bindings with aliases,
; nested lists and globs.
(use_declaration) @import
; `mod foo;` / `mod foo { ... }` shape the module tree.
(mod_item) @mod
