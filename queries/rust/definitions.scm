; Functions (with their attributes: route macros such as #[get("/")]) and trait
; impls (`impl FromRequestParts<S> for AdminUser` marks a request guard).
(function_item) @def.function
; Outer attributes, attached to the item they precede.
(attribute_item) @attribute
(impl_item) @impl
(struct_item) @def.struct
(return_expression) @return
; Enums are types too (an error enum whose IntoResponse answers 401).
(enum_item) @def.struct
; Associated types of trait impls: `type Rejection = Infallible;`.
(type_item name: (type_identifier) @assoc.name type: (_) @assoc.type) @assoc
; What a function does with control (function summaries): branch conditions
; with the block they guard, `let ... else` blocks, and match arm values.
(if_expression condition: (_) @branch.cond consequence: (block) @branch.body) @branch
(let_declaration value: (_) @branch.cond alternative: (block) @branch.body) @branch
(match_arm value: (_) @arm.value) @arm
