; Function and class definitions. Decorators, parameters (with annotations and
; defaults, where FastAPI dependencies live), base classes and class-level
; attributes (DRF `permission_classes`) are read from the captured node.
(function_definition) @def.function
(class_definition) @def.class
; Returned values: an app factory returns its app, a helper returns a router.
(return_statement) @return
