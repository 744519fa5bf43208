; Debug switches set in code: `DEBUG = True` (Django settings), `app.debug = True`,
; `app.config["DEBUG"] = True`. The @match capture is what the finding points at.
(assignment
  left: (identifier) @name
  right: (true)
  (#eq? @name "DEBUG")) @match

(assignment
  left: (attribute attribute: (identifier) @name)
  right: (true)
  (#eq? @name "debug")) @match

(assignment
  left: (subscript subscript: (string (string_content) @key))
  right: (true)
  (#eq? @key "DEBUG")) @match
