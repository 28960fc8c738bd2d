# fish completion for ocibundle. Load it with
#   ocibundle completion fish | source
# or save it as ~/.config/fish/completions/ocibundle.fish.
# ocibundle itself answers: the words before the cursor and the word at it
# go to `ocibundle ... --generate-bash-completion`, which prints the
# candidates, one a line; none means file names.
function __ocibundle_complete
    set -l words (commandline -opc)
    $words[1] $words[2..-1] (commandline -ct) --generate-bash-completion 2>/dev/null
end
function __ocibundle_none
    set -l out (__ocibundle_complete)
    test (count $out) -eq 0
end
complete -c ocibundle -f -a '(__ocibundle_complete)'
complete -c ocibundle -n __ocibundle_none -F
