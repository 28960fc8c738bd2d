# bash completion for ocibundle. Load it with
#   source <(ocibundle completion bash)
# or install it as /usr/share/bash-completion/completions/ocibundle.
# ocibundle itself answers: the words before the cursor and the word at it
# (empty after a space) go to `ocibundle ... --generate-bash-completion`,
# which prints the candidates, one a line; none means file names.
_ocibundle() {
	local line=${COMP_LINE:0:COMP_POINT} words
	read -ra words <<<"$line"
	[[ $line == *[[:space:]] || ${#words[@]} -eq 0 ]] && words+=("")
	local cur=${words[${#words[@]}-1]} IFS=$'\n'
	COMPREPLY=($("${words[0]}" "${words[@]:1}" --generate-bash-completion 2>/dev/null))
	# bash replaces only the part of the word after its last = or : (both
	# in COMP_WORDBREAKS): drop what comes before from the candidates.
	local pre=${cur%"${cur##*[=:]}"}
	[[ -n $pre ]] && COMPREPLY=("${COMPREPLY[@]#"$pre"}")
	return 0
}
complete -o default -F _ocibundle ocibundle
