complete -c hcwrap -l url -d 'The check\'s full ping URL, as its page shows it [env: HC_PING_URL]' -r
complete -c hcwrap -l uuid -d 'The check\'s UUID [env: CHECK_UUID]' -r
complete -c hcwrap -l api-url -d 'The ping API\'s base URL, for --uuid and --slug [env: HC_API_URL] [default: https://hc-ping.com]' -r
complete -c hcwrap -l slug -d 'The check\'s slug, with --ping-key [env: CHECK_SLUG]' -r
complete -c hcwrap -l ping-key -d 'The project\'s ping key, for --slug [env: HC_PING_KEY, then PING_KEY]' -r
complete -c hcwrap -l on-success -d 'The ping to send when the command exits with status 0' -r -f -a "success\t'A success ping: the check\'s plain URL'
fail\t'A failure ping: /fail'
exit-code\t'The exit status: /<n> (0 is success, anything else failure)'
log\t'A log entry that changes no state: /log'
none\t'No ping at all'"
complete -c hcwrap -l on-nonzero-exit -d 'The ping to send when the command exits with another status or is killed' -r -f -a "success\t'A success ping: the check\'s plain URL'
fail\t'A failure ping: /fail'
exit-code\t'The exit status: /<n> (0 is success, anything else failure)'
log\t'A log entry that changes no state: /log'
none\t'No ping at all'"
complete -c hcwrap -l on-exec-fail -d 'The ping to send when the command cannot be started' -r -f -a "success\t'A success ping: the check\'s plain URL'
fail\t'A failure ping: /fail'
exit-code\t'The exit status: /<n> (0 is success, anything else failure)'
log\t'A log entry that changes no state: /log'
none\t'No ping at all'"
complete -c hcwrap -l body-limit -d 'Send at most this many bytes of output (can only lower the server\'s limit)' -r
complete -c hcwrap -l ping-timeout -d 'Time limit for each attempt to send a ping' -r
complete -c hcwrap -l ping-retries -d 'How many times to retry a ping that failed for a reason worth retrying' -r
complete -c hcwrap -l proxy -d 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)' -r
complete -c hcwrap -l cacert -d 'Also trust the CA certificates in this PEM file' -r -F
complete -c hcwrap -s H -l header -d 'Add this header to every ping, as \'Name: value\' (repeatable)' -r
complete -c hcwrap -l lock -d 'Run only if no other run holds the lock (default file: from the check, under $XDG_RUNTIME_DIR or the temp directory)' -r -F
complete -c hcwrap -l on-lock-busy -d 'The ping to send when --lock finds a previous run still running' -r -f -a "log\t'A log entry (/log) saying the run was skipped'
fail\t'A failure ping (/fail)'
none\t'No ping'"
complete -c hcwrap -l every -d 'Run the command now and then every DURATION after the first start, until a signal ends hcwrap' -r
complete -c hcwrap -l jitter -d 'Wait a random time up to DURATION before each run' -r
complete -c hcwrap -l timeout -d 'Stop the command (SIGTERM to its process group) after it ran this long, and exit 124' -r
complete -c hcwrap -l kill-after -d 'After passing on SIGINT, SIGTERM or SIGHUP, or a timeout\'s SIGTERM, send SIGKILL if the command still runs after this long' -r
complete -c hcwrap -l generate -d 'Print a man page or a shell completion script generated from this definition' -r -f -a "man\t'The man page, hcwrap.1'
complete-bash\t'Completions for bash'
complete-zsh\t'Completions for zsh'
complete-fish\t'Completions for fish'
complete-elvish\t'Completions for elvish'
complete-powershell\t'Completions for PowerShell'"
complete -c hcwrap -l create -d 'Create the check named by --slug if the server does not know it yet'
complete -c hcwrap -l no-start-ping -d 'Do not send a start ping'
complete -c hcwrap -l no-run-id -d 'Do not tag the pings with a run id (rid=)'
complete -c hcwrap -l no-output -d 'Send no output with the final ping, only how the run ended'
complete -c hcwrap -l dry-run -d 'Print the pings instead of sending them'
complete -c hcwrap -s q -l quiet -d 'Do not show the command\'s stdout (it is still captured)'
complete -c hcwrap -s s -l silent -d 'Do not show the command\'s stdout or stderr (both are still captured)'
complete -c hcwrap -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hcwrap -s V -l version -d 'Print version'

# After `--`, complete the wrapped command line as fish would complete it alone.
function __hcwrap_complete_wrapped
    set -l tokens (commandline -opc)
    set -l at (contains -i -- -- $tokens)
    set -l rest $tokens[(math $at + 1)..-1] (commandline -ct)
    complete -C (string join -- ' ' $rest)
end
complete -c hcwrap -n 'contains -- -- (commandline -opc)' -f -a '(__hcwrap_complete_wrapped)'
