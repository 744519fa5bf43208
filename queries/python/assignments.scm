; Assignments bind names to values (`app = FastAPI()`, `routes = [...]`,
; `SECRET_KEY = "..."`); `with X() as y` binds like an assignment.
(assignment left: (_) @assign.target right: (_) @assign.value) @assign
(with_item value: (as_pattern (_) @assign.value alias: (as_pattern_target (identifier) @assign.target))) @assign
; `for x in xs:` binds x to each element of xs.
(for_statement left: (identifier) @assign.target right: (_) @loop.value) @assign
; `for k, v in d.items():` binds each name to (a part of) each element.
(for_statement left: (pattern_list (identifier) @assign.target) right: (_) @loop.value) @assign
(for_statement left: (tuple_pattern (identifier) @assign.target) right: (_) @loop.value) @assign
(augmented_assignment left: (identifier) @assign.target right: (_) @assign.value) @assign
; `[f(x) for x in xs]`: inside the comprehension, x is each element of xs.
(for_in_clause left: (identifier) @assign.target right: (_) @loop.value) @assign
(for_in_clause left: (pattern_list (identifier) @assign.target) right: (_) @loop.value) @assign
(for_in_clause left: (tuple_pattern (identifier) @assign.target) right: (_) @loop.value) @assign
