; `let x = ...;`, `const X: T = ...;` and `static X: T = ...;` bind names to values.
(let_declaration pattern: (identifier) @assign.target value: (_) @assign.value) @assign
(const_item name: (identifier) @assign.target value: (_) @assign.value) @assign
(static_item name: (identifier) @assign.target value: (_) @assign.value) @assign
; `router = router.route(...)`: a later binding of the same name.
(assignment_expression left: (identifier) @assign.target right: (_) @assign.value) @assign
; `if let Some(x) = v {` / `while let Ok(x) = v {` / `let Some(x) = v else {`: `x` is
; what `v` holds (an element of it).
(let_condition pattern: (tuple_struct_pattern type: (_) (identifier) @assign.target) value: (_) @assign.inner) @assign
(let_declaration pattern: (tuple_struct_pattern type: (_) (identifier) @assign.target) value: (_) @assign.inner) @assign
