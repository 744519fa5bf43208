; Every call expression: the callee and its arguments become an `Expr` tree that
; name resolution and the API catalogue (rules/catalog/*.toml) classify.
(call) @call
; Subscripts with a literal key: `os.environ["API_KEY"]`, `settings["SECRET"]`.
(subscript value: (_) @sub.value subscript: (string) @sub.key) @sub
