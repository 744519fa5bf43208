; Functions (with their attributes: route macros such as #[get("/")]) and trait
; impls (`impl FromRequestParts<S> for AdminUser` marks a request guard).
(function_item) @def.function
; Outer attributes, attached to the item they precede.
(attribute_item) @attribute
(impl_item) @impl
(struct_item) @def.struct
(return_expression) @return
