; Function and class definitions. Decorators, parameters (with annotations and
; defaults, where FastAPI dependencies live), base classes and class-level
; attributes (DRF `permission_classes`) are read from the captured node.
(function_definition) @def.function
(class_definition) @def.class
; Returned values: an app factory returns its app, a helper returns a router.
(return_statement) @return
; Yielded values: a dependency provider (`def get_db(): db = Session(); yield db`)
; gives its dependants what it yields.
(yield) @yield
; What a function does with control: `raise`, and branch conditions with the
; block they guard (function summaries: does it reject a request, and when).
(raise_statement) @raise
(if_statement condition: (_) @branch.cond consequence: (block) @branch.body) @branch
(elif_clause condition: (_) @branch.cond consequence: (block) @branch.body) @branch
(if_statement condition: (_) @branch.cond alternative: (else_clause body: (block) @branch.else)) @branch
