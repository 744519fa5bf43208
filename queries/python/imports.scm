; Import statements. Decoded in src/extract/python.rs into (local name -> qualified target)
; bindings, including aliases and relative levels (`from ..utils import yaml`).
(import_statement) @import
(import_from_statement) @import.from
