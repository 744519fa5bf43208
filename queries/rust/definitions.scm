; Functions (with their attributes: route macros such as #[get("/")]) and trait
; impls (`impl FromRequestParts<S> for AdminUser` marks a request guard).
(function_item) @def.function
(impl_item) @impl
(struct_item) @def.struct
(return_expression) @return
