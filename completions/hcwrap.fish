# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_hcwrap_global_optspecs
    string join \n url= uuid= api-url= slug= ping-key= create no-start-ping no-run-id on-success= on-nonzero-exit= on-exec-fail= body-limit= no-output dry-run strict redact= redact-env= q/quiet s/silent api-key= site-url= schedule= tz= grace= period= name= tags= desc= channels= ping-timeout= ping-retries= proxy= cacert= H/header= tolerate= min-runtime= fail-on-stderr fail-on= fail-exit= run-log= metrics-file= lock= on-lock-busy= every= jitter= timeout= kill-after= h/help V/version
end

function __fish_hcwrap_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_hcwrap_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_hcwrap_using_subcommand
    set -l cmd (__fish_hcwrap_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c hcwrap -n "__fish_hcwrap_needs_command" -l url -d 'The check\'s full ping URL, as its page shows it [env: HC_PING_URL]' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l uuid -d 'The check\'s UUID [env: CHECK_UUID]' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l api-url -d 'The ping API\'s base URL, for --uuid and --slug [env: HC_API_URL] [default: https://hc-ping.com]' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l slug -d 'The check\'s slug, with --ping-key or --api-key [env: CHECK_SLUG]' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l ping-key -d 'The project\'s ping key, for --slug [env: HC_PING_KEY, then PING_KEY]' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l on-success -d 'The ping to send when the command exits with status 0' -r -f -a "success\t'A success ping: the check\'s plain URL'
fail\t'A failure ping: /fail'
exit-code\t'The exit status: /<n> (0 is success, anything else failure)'
log\t'A log entry that changes no state: /log'
none\t'No ping at all'"
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l on-nonzero-exit -d 'The ping to send when the command exits with another status or is killed' -r -f -a "success\t'A success ping: the check\'s plain URL'
fail\t'A failure ping: /fail'
exit-code\t'The exit status: /<n> (0 is success, anything else failure)'
log\t'A log entry that changes no state: /log'
none\t'No ping at all'"
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l on-exec-fail -d 'The ping to send when the command cannot be started' -r -f -a "success\t'A success ping: the check\'s plain URL'
fail\t'A failure ping: /fail'
exit-code\t'The exit status: /<n> (0 is success, anything else failure)'
log\t'A log entry that changes no state: /log'
none\t'No ping at all'"
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l body-limit -d 'Send at most this many bytes of output (can only lower the server\'s limit)' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l redact -d 'Replace VALUE by [redacted] in the output sent with the final ping (repeatable)' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l redact-env -d 'Replace the value of environment variable NAME by [redacted] in the output sent (repeatable)' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l api-key -d 'The project\'s API key, for the management API, through which hcwrap sets the check up with the settings given (a read-write key; doctor needs only a read-only one) [env: HC_API_KEY]' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l site-url -d 'The Healthchecks site whose management API to use, when it cannot be told from the ping URL (https://hc-ping.com means https://healthchecks.io, and <site>/ping means <site>) [env: HC_SITE_URL]' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l schedule -d 'When the job runs: a five-field cron expression (or @daily, @hourly, ...) or a systemd OnCalendar expression' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l tz -d 'The schedule\'s time zone, such as Europe/Riga [default: CRON_TZ, else TZ, else the system\'s]' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l grace -d 'How late a run may be before the check is reported down (1m to 365d)' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l period -d 'Instead of a schedule: how often the job runs (1m to 365d)' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l name -d 'The check\'s name in the web UI [default: the slug, for a check named by slug]' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l tags -d 'The check\'s tags, separated by spaces' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l desc -d 'The check\'s description' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l channels -d 'The integrations to notify: \'*\' for all, \'\' for none, or a comma-separated list of their names or UUIDs' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l ping-timeout -d 'Time limit for each attempt to send a ping' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l ping-retries -d 'How many times to retry a ping that failed for a reason worth retrying' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l proxy -d 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l cacert -d 'Also trust the CA certificates in this PEM file' -r -F
complete -c hcwrap -n "__fish_hcwrap_needs_command" -s H -l header -d 'Add this header to every ping, as \'Name: value\' (repeatable)' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l tolerate -d 'Report up to N failures in a row as log pings; the next one as a failure (a success resets the count)' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l min-runtime -d 'Count a run that exits 0 sooner than DURATION as failed' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l fail-on -d 'Count a run that exits 0 as failed when a line of its output contains TEXT (plain text, case-sensitive; repeatable)' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l fail-exit -d 'Exit with STATUS instead of 0 when --min-runtime, --fail-on-stderr or --fail-on counts a run as failed' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l run-log -d 'Append one JSON line per run to FILE' -r -F
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l metrics-file -d 'Keep the last run\'s numbers in FILE, in node_exporter\'s textfile format (labelled by check)' -r -F
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l lock -d 'Run only if no other run holds the lock (default file: named from the check, in $XDG_RUNTIME_DIR, else /run/hcwrap for root, else ~/.cache/hcwrap)' -r -F
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l on-lock-busy -d 'The ping to send when --lock finds a previous run still running' -r -f -a "log\t'A log entry (/log) saying the run was skipped'
fail\t'A failure ping (/fail)'
none\t'No ping'"
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l every -d 'Run the command now and then every DURATION after the first start, until a signal ends hcwrap' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l jitter -d 'Wait a random time up to DURATION before each run' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l timeout -d 'Stop the command (SIGTERM to its process group) after it ran this long, and exit 124' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l kill-after -d 'After passing on SIGINT, SIGTERM, SIGHUP or SIGQUIT, or a timeout\'s SIGTERM, send SIGKILL if the command still runs after this long' -r
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l create -d 'Create the check named by --slug if the server does not know it yet'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l no-start-ping -d 'Do not send a start ping'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l no-run-id -d 'Do not tag the pings with a run id (rid=)'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l no-output -d 'Send no output with the final ping, only how the run ended'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l dry-run -d 'Print the pings instead of sending them'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l strict -d 'Refuse to run (exit 125) when the environment names no usable check, instead of running the command unmonitored'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -s q -l quiet -d 'Do not show the command\'s stdout (it is still captured)'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -s s -l silent -d 'Do not show the command\'s stdout or stderr (both are still captured), nor hcwrap\'s notices (a timeout, a signal, a skipped run); errors and warnings still show'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -l fail-on-stderr -d 'Count a run that exits 0 but writes to stderr as failed'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -s V -l version -d 'Print version'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -a "ping" -d 'Send one ping, as a backup tool\'s or scheduler\'s hook would: start, success, fail, log or an exit status'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -a "probe" -d 'Check an HTTP(S) endpoint and exit 0 if it is healthy, for a container HEALTHCHECK'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -a "doctor" -d 'Check what can silently defeat monitoring: the way to the server, and with an API key the check\'s settings, pause and filtering'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -a "sync" -d 'Make a crontab\'s jobs (or systemd timers) checks: set each one up with its schedule, and wrap its command with hcwrap'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -a "flush" -d 'Deliver the final pings that earlier runs could not deliver and kept'
complete -c hcwrap -n "__fish_hcwrap_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l rid -d 'The run id to report into [env: HC_RUN_ID, as hcwrap sets it for a wrapped command]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l message -d 'The ping\'s body (it may start with \'-\', as an error text may)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l message-env -d 'The ping\'s body is the value of environment variable NAME (no shell quoting to get wrong)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l body-file -d 'Read the ping\'s body from this file, or from stdin with \'-\'; the tail is kept' -r -F
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l body-limit -d 'Send at most this many bytes of body' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l max-time -d 'Give up on the ping after this long in all, retries included' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l url -d 'The check\'s full ping URL, as its page shows it [env: HC_PING_URL]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l uuid -d 'The check\'s UUID [env: CHECK_UUID]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l api-url -d 'The ping API\'s base URL, for --uuid and --slug [env: HC_API_URL] [default: https://hc-ping.com]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l slug -d 'The check\'s slug, with --ping-key or --api-key [env: CHECK_SLUG]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l ping-key -d 'The project\'s ping key, for --slug [env: HC_PING_KEY, then PING_KEY]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l api-key -d 'The project\'s API key, for the management API, through which hcwrap sets the check up with the settings given (a read-write key; doctor needs only a read-only one) [env: HC_API_KEY]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l site-url -d 'The Healthchecks site whose management API to use, when it cannot be told from the ping URL (https://hc-ping.com means https://healthchecks.io, and <site>/ping means <site>) [env: HC_SITE_URL]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l schedule -d 'When the job runs: a five-field cron expression (or @daily, @hourly, ...) or a systemd OnCalendar expression' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l tz -d 'The schedule\'s time zone, such as Europe/Riga [default: CRON_TZ, else TZ, else the system\'s]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l grace -d 'How late a run may be before the check is reported down (1m to 365d)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l period -d 'Instead of a schedule: how often the job runs (1m to 365d)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l name -d 'The check\'s name in the web UI [default: the slug, for a check named by slug]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l tags -d 'The check\'s tags, separated by spaces' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l desc -d 'The check\'s description' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l channels -d 'The integrations to notify: \'*\' for all, \'\' for none, or a comma-separated list of their names or UUIDs' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l ping-timeout -d 'Time limit for each attempt to send a ping' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l ping-retries -d 'How many times to retry a ping that failed for a reason worth retrying' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l proxy -d 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l cacert -d 'Also trust the CA certificates in this PEM file' -r -F
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -s H -l header -d 'Add this header to every ping, as \'Name: value\' (repeatable)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l dry-run -d 'Print the ping instead of sending it'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l strict -d 'Exit 1 when the ping is not delivered, and 125 when the environment names no usable check (default: a warning, and exit 0, so that the monitor never fails the hook)'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -l create -d 'Create the check named by --slug if the server does not know it yet'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand ping" -s h -l help -d 'Print help'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand probe" -l expect-status -d 'Healthy only with exactly this status (default: any 2xx)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand probe" -l expect-body -d 'Healthy only if the answer\'s body contains TEXT' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand probe" -l host -d 'Send this Host header (a server behind a proxy or in a container may want its own name)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand probe" -s H -l header -d 'Add this header, as \'Name: value\' (repeatable)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand probe" -l timeout -d 'Time limit for the whole probe, retries included' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand probe" -l retries -d 'Try again this many times when the endpoint is not healthy' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand probe" -l cacert -d 'Also trust the CA certificates in this PEM file' -r -F
complete -c hcwrap -n "__fish_hcwrap_using_subcommand probe" -s q -l quiet -d 'Print nothing; the exit status says it all'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand probe" -s h -l help -d 'Print help'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l url -d 'The check\'s full ping URL, as its page shows it [env: HC_PING_URL]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l uuid -d 'The check\'s UUID [env: CHECK_UUID]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l api-url -d 'The ping API\'s base URL, for --uuid and --slug [env: HC_API_URL] [default: https://hc-ping.com]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l slug -d 'The check\'s slug, with --ping-key or --api-key [env: CHECK_SLUG]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l ping-key -d 'The project\'s ping key, for --slug [env: HC_PING_KEY, then PING_KEY]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l api-key -d 'The project\'s API key, for the management API, through which hcwrap sets the check up with the settings given (a read-write key; doctor needs only a read-only one) [env: HC_API_KEY]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l site-url -d 'The Healthchecks site whose management API to use, when it cannot be told from the ping URL (https://hc-ping.com means https://healthchecks.io, and <site>/ping means <site>) [env: HC_SITE_URL]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l schedule -d 'When the job runs: a five-field cron expression (or @daily, @hourly, ...) or a systemd OnCalendar expression' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l tz -d 'The schedule\'s time zone, such as Europe/Riga [default: CRON_TZ, else TZ, else the system\'s]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l grace -d 'How late a run may be before the check is reported down (1m to 365d)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l period -d 'Instead of a schedule: how often the job runs (1m to 365d)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l name -d 'The check\'s name in the web UI [default: the slug, for a check named by slug]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l tags -d 'The check\'s tags, separated by spaces' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l desc -d 'The check\'s description' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l channels -d 'The integrations to notify: \'*\' for all, \'\' for none, or a comma-separated list of their names or UUIDs' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l ping-timeout -d 'Time limit for each attempt to send a ping' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l ping-retries -d 'How many times to retry a ping that failed for a reason worth retrying' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l proxy -d 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l cacert -d 'Also trust the CA certificates in this PEM file' -r -F
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -s H -l header -d 'Add this header to every ping, as \'Name: value\' (repeatable)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l send-log -d 'Also send a log ping (/log) as an end-to-end test: it is recorded in the check\'s log and changes nothing else'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -l create -d 'Create the check named by --slug if the server does not know it yet'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l crontab -d 'A crontab file in the system\'s format, with a user field, such as /etc/crontab or /etc/cron.d/backup (repeatable) [default: your own crontab, through crontab -l]' -r -F
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l systemd -d 'The *.timer units in DIR and the services they start (repeatable) [default DIR: /etc/systemd/system for root, else ~/.config/systemd/user]' -r -F
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l dropin-dir -d 'Where to write the timers\' drop-in files [default: beside each unit]' -r -F
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l grace -d 'The grace of every check [default: a quarter of the time between runs, 1m to 6h]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l tz -d 'The schedules\' time zone: cron\'s own, where it reads no CRON_TZ line [default: the system\'s]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l hcwrap -d 'The hcwrap that the wrapped lines run [default: this one\'s absolute path]' -r -F
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l api-url -d 'The ping API\'s base URL [env: HC_API_URL] [default: https://hc-ping.com]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l ping-key -d 'The project\'s ping key, as file:PATH: the crontab gets HC_PING_KEY=file:PATH, never the key [env: HC_PING_KEY]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l api-key -d 'The project\'s API key, for the management API, through which hcwrap sets the check up with the settings given (a read-write key; doctor needs only a read-only one) [env: HC_API_KEY]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l site-url -d 'The Healthchecks site whose management API to use, when it cannot be told from the ping URL (https://hc-ping.com means https://healthchecks.io, and <site>/ping means <site>) [env: HC_SITE_URL]' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l ping-timeout -d 'Time limit for each attempt to send a ping' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l ping-retries -d 'How many times to retry a ping that failed for a reason worth retrying' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l proxy -d 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l cacert -d 'Also trust the CA certificates in this PEM file' -r -F
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -s H -l header -d 'Add this header to every ping, as \'Name: value\' (repeatable)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l apply -d 'Set the checks up and install the rewritten crontab (or drop-in files); without it, only print the plan'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -l migrate-runitor -d 'Rewrite lines that runitor wraps to use hcwrap (with the slug derived as for others)'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand sync" -s h -l help -d 'Print help'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand flush" -l ping-timeout -d 'Time limit for each attempt to send a ping' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand flush" -l ping-retries -d 'How many times to retry a ping that failed for a reason worth retrying' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand flush" -l proxy -d 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand flush" -l cacert -d 'Also trust the CA certificates in this PEM file' -r -F
complete -c hcwrap -n "__fish_hcwrap_using_subcommand flush" -s H -l header -d 'Add this header to every ping, as \'Name: value\' (repeatable)' -r
complete -c hcwrap -n "__fish_hcwrap_using_subcommand flush" -l dry-run -d 'List what is waiting without sending anything'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand flush" -s h -l help -d 'Print help'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand help; and not __fish_seen_subcommand_from ping probe doctor sync flush help" -f -a "ping" -d 'Send one ping, as a backup tool\'s or scheduler\'s hook would: start, success, fail, log or an exit status'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand help; and not __fish_seen_subcommand_from ping probe doctor sync flush help" -f -a "probe" -d 'Check an HTTP(S) endpoint and exit 0 if it is healthy, for a container HEALTHCHECK'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand help; and not __fish_seen_subcommand_from ping probe doctor sync flush help" -f -a "doctor" -d 'Check what can silently defeat monitoring: the way to the server, and with an API key the check\'s settings, pause and filtering'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand help; and not __fish_seen_subcommand_from ping probe doctor sync flush help" -f -a "sync" -d 'Make a crontab\'s jobs (or systemd timers) checks: set each one up with its schedule, and wrap its command with hcwrap'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand help; and not __fish_seen_subcommand_from ping probe doctor sync flush help" -f -a "flush" -d 'Deliver the final pings that earlier runs could not deliver and kept'
complete -c hcwrap -n "__fish_hcwrap_using_subcommand help; and not __fish_seen_subcommand_from ping probe doctor sync flush help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

# After `--`, complete the wrapped command line as fish would complete it alone.
function __hcwrap_complete_wrapped
    set -l tokens (commandline -opc)
    set -l at (contains -i -- -- $tokens)
    set -l rest $tokens[(math $at + 1)..-1] (commandline -ct)
    complete -C (string join -- ' ' $rest)
end
complete -c hcwrap -n 'contains -- -- (commandline -opc)' -f -a '(__hcwrap_complete_wrapped)'
# `hcwrap ping`'s KIND (clap's fish completions leave positional values out).
complete -c hcwrap -n '__fish_hcwrap_using_subcommand ping; and not __fish_seen_subcommand_from start success fail log' -f -a 'start success fail log'
