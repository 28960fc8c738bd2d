#compdef ocibundle
# zsh completion for ocibundle. Load it with
#   source <(ocibundle completion zsh)      (after compinit)
# or save it as _ocibundle in a directory of $fpath.
# ocibundle itself answers: the words before the cursor and the word at it
# go to `ocibundle ... --generate-bash-completion`, which prints the
# candidates, one a line; none means file names.
_ocibundle() {
	local -a opts
	opts=("${(@f)$("${words[1]}" "${(@)words[2,CURRENT]}" --generate-bash-completion 2>/dev/null)}")
	if [[ -n ${opts[1]} ]]; then
		compadd -- "${opts[@]}"
	else
		_files
	fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
	_ocibundle "$@"
else
	compdef _ocibundle ocibundle
fi
