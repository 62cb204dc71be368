# Sourced by scripts/render.sh and scripts/preview-diff.sh.
#
# engine_workdir PROGRAM_DIR WORK_DIR: makes WORK_DIR a proxy for the Pulumi project in
# PROGRAM_DIR: a symlink to every entry except the stack files Pulumi.<stack>.yaml, which are
# copied. The engine then runs the real program (Node follows the symlinks to the real files and
# node_modules), while everything Pulumi writes into the project directory (`stack init` adds an
# encryptionsalt to a stack file without one, `config set` edits one) lands in the copies.
engine_workdir() {
  local src="$1" dst="$2" entry name
  mkdir -p "$dst"
  for entry in "$src"/* "$src"/.[!.]*; do
    [[ -e "$entry" ]] || continue
    name="$(basename "$entry")"
    case "$name" in
      .git|.pulumi|.pulumi-state|rendered) continue ;;
      Pulumi.yaml|Pulumi.yml) ln -s "$entry" "$dst/$name" ;;
      Pulumi.*.yaml|Pulumi.*.yml) cp "$entry" "$dst/$name" ;;
      *) ln -s "$entry" "$dst/$name" ;;
    esac
  done
}

# project_name PROGRAM_DIR: the `name:` of its Pulumi.yaml.
project_name() {
  sed -n 's/^name:[[:space:]]*//p' "$1/Pulumi.yaml" | head -1 | tr -d '"'"'"
}
