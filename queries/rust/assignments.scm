; `let x = ...;`, `const X: T = ...;` and `static X: T = ...;` bind names to values.
(let_declaration pattern: (identifier) @assign.target value: (_) @assign.value) @assign
(const_item name: (identifier) @assign.target value: (_) @assign.value) @assign
(static_item name: (identifier) @assign.target value: (_) @assign.value) @assign
; `router = router.route(...)`: a later binding of the same name.
(assignment_expression left: (identifier) @assign.target right: (_) @assign.value) @assign
