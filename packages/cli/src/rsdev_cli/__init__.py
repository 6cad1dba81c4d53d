"""rsdev_cli: the config tooling commands, one module each.

- j5_format: lay out JSON5 files in one style, every comment kept (`--check` for CI).
- j5_to_json, j5_to_yaml, dir_to_yaml: JSON5 files (or a folder of configs) as JSON or YAML.
- js_paths: list the paths in a JSON5 or JSON document (gron-like), and turn them back into JSON.
- rs_encrypt: encrypt a config value into an `rsdev:v1:` token bound to its JSON path, or decrypt one.
- rs_zip: reproducible deployment bundles with a manifest, and their verification.

`common` holds the shared file argument and output handling; `errors` draws the exception tree.
"""

__version__ = "0.1.0"
