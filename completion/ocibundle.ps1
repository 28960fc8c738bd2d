# PowerShell (7.3 or later) completion for ocibundle. Load it with
#   ocibundle completion powershell | Out-String | Invoke-Expression
# or add that line to $PROFILE.
# ocibundle itself answers: the words before the cursor and the word at it
# (empty after a space) go to `ocibundle ... --generate-bash-completion`,
# which prints the candidates, one a line; none means file names.
Register-ArgumentCompleter -Native -CommandName ocibundle, ocibundle.exe -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $PSNativeCommandArgumentPassing = 'Standard' # pass the empty word as ''
    $words = @($commandAst.CommandElements |
        Where-Object { $_.Extent.StartOffset -lt $cursorPosition } |
        ForEach-Object { $_.Extent.Text })
    if ($wordToComplete -eq '') { $words += '' }
    $rest = @()
    if ($words.Count -gt 1) { $rest = $words[1..($words.Count - 1)] }
    $candidates = @(& $words[0] @rest --generate-bash-completion 2>$null)
    if ($candidates.Count -eq 0) { return } # PowerShell offers paths
    $candidates | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }
}
