; Calls and method calls (`a.b(c)` is a call_expression whose function is a
; field_expression), and macros such as `routes![...]`.
(call_expression) @call
(macro_invocation) @macro
; `f(..)?` / `f(..).await?`: the call's error propagates (function summaries).
(try_expression) @try
