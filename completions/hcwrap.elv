
use builtin;
use str;

set edit:completion:arg-completer[hcwrap] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'hcwrap'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'hcwrap'= {
            cand --url 'The check''s full ping URL, as its page shows it [env: HC_PING_URL]'
            cand --uuid 'The check''s UUID [env: CHECK_UUID]'
            cand --api-url 'The ping API''s base URL, for --uuid and --slug [env: HC_API_URL] [default: https://hc-ping.com]'
            cand --slug 'The check''s slug, with --ping-key or --api-key [env: CHECK_SLUG]'
            cand --ping-key 'The project''s ping key, for --slug [env: HC_PING_KEY, then PING_KEY]'
            cand --on-success 'The ping to send when the command exits with status 0'
            cand --on-nonzero-exit 'The ping to send when the command exits with another status or is killed'
            cand --on-exec-fail 'The ping to send when the command cannot be started'
            cand --body-limit 'Send at most this many bytes of output (can only lower the server''s limit)'
            cand --redact 'Replace VALUE by [redacted] in the output sent with the final ping (repeatable)'
            cand --redact-env 'Replace the value of environment variable NAME by [redacted] in the output sent (repeatable)'
            cand --api-key 'The project''s API key, for the management API, through which hcwrap sets the check up with the settings given (a read-write key; doctor needs only a read-only one) [env: HC_API_KEY]'
            cand --site-url 'The Healthchecks site whose management API to use, when it cannot be told from the ping URL (https://hc-ping.com means https://healthchecks.io, and <site>/ping means <site>) [env: HC_SITE_URL]'
            cand --schedule 'When the job runs: a five-field cron expression (or @daily, @hourly, ...) or a systemd OnCalendar expression'
            cand --tz 'The schedule''s time zone, such as Europe/Riga [default: CRON_TZ, else TZ, else the system''s]'
            cand --grace 'How late a run may be before the check is reported down (1m to 365d)'
            cand --period 'Instead of a schedule: how often the job runs (1m to 365d)'
            cand --name 'The check''s name in the web UI [default: the slug, for a check named by slug]'
            cand --tags 'The check''s tags, separated by spaces'
            cand --desc 'The check''s description'
            cand --channels 'The integrations to notify: ''*'' for all, '''' for none, or a comma-separated list of their names or UUIDs'
            cand --ping-timeout 'Time limit for each attempt to send a ping'
            cand --ping-retries 'How many times to retry a ping that failed for a reason worth retrying'
            cand --proxy 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)'
            cand --cacert 'Also trust the CA certificates in this PEM file'
            cand -H 'Add this header to every ping, as ''Name: value'' (repeatable)'
            cand --header 'Add this header to every ping, as ''Name: value'' (repeatable)'
            cand --tolerate 'Report up to N failures in a row as log pings; the next one as a failure (a success resets the count)'
            cand --min-runtime 'Count a run that exits 0 sooner than DURATION as failed'
            cand --fail-on 'Count a run that exits 0 as failed when a line of its output contains TEXT (plain text, case-sensitive; repeatable)'
            cand --fail-exit 'Exit with STATUS instead of 0 when --min-runtime, --fail-on-stderr or --fail-on counts a run as failed'
            cand --run-log 'Append one JSON line per run to FILE'
            cand --metrics-file 'Keep the last run''s numbers in FILE, in node_exporter''s textfile format (labelled by check)'
            cand --lock 'Run only if no other run holds the lock (default file: named from the check, in $XDG_RUNTIME_DIR, else /run/hcwrap for root, else ~/.cache/hcwrap)'
            cand --on-lock-busy 'The ping to send when --lock finds a previous run still running'
            cand --every 'Run the command now and then every DURATION after the first start, until a signal ends hcwrap'
            cand --jitter 'Wait a random time up to DURATION before each run'
            cand --timeout 'Stop the command (SIGTERM to its process group) after it ran this long, and exit 124'
            cand --kill-after 'After passing on SIGINT, SIGTERM, SIGHUP or SIGQUIT, or a timeout''s SIGTERM, send SIGKILL if the command still runs after this long'
            cand --create 'Create the check named by --slug if the server does not know it yet'
            cand --no-start-ping 'Do not send a start ping'
            cand --no-run-id 'Do not tag the pings with a run id (rid=)'
            cand --no-output 'Send no output with the final ping, only how the run ended'
            cand --dry-run 'Print the pings instead of sending them'
            cand --strict 'Refuse to run (exit 125) when the environment names no usable check, instead of running the command unmonitored'
            cand -q 'Do not show the command''s stdout (it is still captured)'
            cand --quiet 'Do not show the command''s stdout (it is still captured)'
            cand -s 'Do not show the command''s stdout or stderr (both are still captured), nor hcwrap''s notices (a timeout, a signal, a skipped run); errors and warnings still show'
            cand --silent 'Do not show the command''s stdout or stderr (both are still captured), nor hcwrap''s notices (a timeout, a signal, a skipped run); errors and warnings still show'
            cand --fail-on-stderr 'Count a run that exits 0 but writes to stderr as failed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand ping 'Send one ping, as a backup tool''s or scheduler''s hook would: start, success, fail, log or an exit status'
            cand probe 'Check an HTTP(S) endpoint and exit 0 if it is healthy, for a container HEALTHCHECK'
            cand doctor 'Check what can silently defeat monitoring: the way to the server, and with an API key the check''s settings, pause and filtering'
            cand sync 'Make a crontab''s jobs (or systemd timers) checks: set each one up with its schedule, and wrap its command with hcwrap'
            cand flush 'Deliver the final pings that earlier runs could not deliver and kept'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hcwrap;ping'= {
            cand --rid 'The run id to report into [env: HC_RUN_ID, as hcwrap sets it for a wrapped command]'
            cand --message 'The ping''s body (it may start with ''-'', as an error text may)'
            cand --message-env 'The ping''s body is the value of environment variable NAME (no shell quoting to get wrong)'
            cand --body-file 'Read the ping''s body from this file, or from stdin with ''-''; the tail is kept'
            cand --body-limit 'Send at most this many bytes of body'
            cand --max-time 'Give up on the ping after this long in all, retries included'
            cand --url 'The check''s full ping URL, as its page shows it [env: HC_PING_URL]'
            cand --uuid 'The check''s UUID [env: CHECK_UUID]'
            cand --api-url 'The ping API''s base URL, for --uuid and --slug [env: HC_API_URL] [default: https://hc-ping.com]'
            cand --slug 'The check''s slug, with --ping-key or --api-key [env: CHECK_SLUG]'
            cand --ping-key 'The project''s ping key, for --slug [env: HC_PING_KEY, then PING_KEY]'
            cand --api-key 'The project''s API key, for the management API, through which hcwrap sets the check up with the settings given (a read-write key; doctor needs only a read-only one) [env: HC_API_KEY]'
            cand --site-url 'The Healthchecks site whose management API to use, when it cannot be told from the ping URL (https://hc-ping.com means https://healthchecks.io, and <site>/ping means <site>) [env: HC_SITE_URL]'
            cand --schedule 'When the job runs: a five-field cron expression (or @daily, @hourly, ...) or a systemd OnCalendar expression'
            cand --tz 'The schedule''s time zone, such as Europe/Riga [default: CRON_TZ, else TZ, else the system''s]'
            cand --grace 'How late a run may be before the check is reported down (1m to 365d)'
            cand --period 'Instead of a schedule: how often the job runs (1m to 365d)'
            cand --name 'The check''s name in the web UI [default: the slug, for a check named by slug]'
            cand --tags 'The check''s tags, separated by spaces'
            cand --desc 'The check''s description'
            cand --channels 'The integrations to notify: ''*'' for all, '''' for none, or a comma-separated list of their names or UUIDs'
            cand --ping-timeout 'Time limit for each attempt to send a ping'
            cand --ping-retries 'How many times to retry a ping that failed for a reason worth retrying'
            cand --proxy 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)'
            cand --cacert 'Also trust the CA certificates in this PEM file'
            cand -H 'Add this header to every ping, as ''Name: value'' (repeatable)'
            cand --header 'Add this header to every ping, as ''Name: value'' (repeatable)'
            cand --dry-run 'Print the ping instead of sending it'
            cand --strict 'Exit 1 when the ping is not delivered, and 125 when the environment names no usable check (default: a warning, and exit 0, so that the monitor never fails the hook)'
            cand --create 'Create the check named by --slug if the server does not know it yet'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hcwrap;probe'= {
            cand --expect-status 'Healthy only with exactly this status (default: any 2xx)'
            cand --expect-body 'Healthy only if the answer''s body contains TEXT'
            cand --host 'Send this Host header (a server behind a proxy or in a container may want its own name)'
            cand -H 'Add this header, as ''Name: value'' (repeatable)'
            cand --header 'Add this header, as ''Name: value'' (repeatable)'
            cand --timeout 'Time limit for the whole probe, retries included'
            cand --retries 'Try again this many times when the endpoint is not healthy'
            cand --cacert 'Also trust the CA certificates in this PEM file'
            cand -q 'Print nothing; the exit status says it all'
            cand --quiet 'Print nothing; the exit status says it all'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hcwrap;doctor'= {
            cand --url 'The check''s full ping URL, as its page shows it [env: HC_PING_URL]'
            cand --uuid 'The check''s UUID [env: CHECK_UUID]'
            cand --api-url 'The ping API''s base URL, for --uuid and --slug [env: HC_API_URL] [default: https://hc-ping.com]'
            cand --slug 'The check''s slug, with --ping-key or --api-key [env: CHECK_SLUG]'
            cand --ping-key 'The project''s ping key, for --slug [env: HC_PING_KEY, then PING_KEY]'
            cand --api-key 'The project''s API key, for the management API, through which hcwrap sets the check up with the settings given (a read-write key; doctor needs only a read-only one) [env: HC_API_KEY]'
            cand --site-url 'The Healthchecks site whose management API to use, when it cannot be told from the ping URL (https://hc-ping.com means https://healthchecks.io, and <site>/ping means <site>) [env: HC_SITE_URL]'
            cand --schedule 'When the job runs: a five-field cron expression (or @daily, @hourly, ...) or a systemd OnCalendar expression'
            cand --tz 'The schedule''s time zone, such as Europe/Riga [default: CRON_TZ, else TZ, else the system''s]'
            cand --grace 'How late a run may be before the check is reported down (1m to 365d)'
            cand --period 'Instead of a schedule: how often the job runs (1m to 365d)'
            cand --name 'The check''s name in the web UI [default: the slug, for a check named by slug]'
            cand --tags 'The check''s tags, separated by spaces'
            cand --desc 'The check''s description'
            cand --channels 'The integrations to notify: ''*'' for all, '''' for none, or a comma-separated list of their names or UUIDs'
            cand --ping-timeout 'Time limit for each attempt to send a ping'
            cand --ping-retries 'How many times to retry a ping that failed for a reason worth retrying'
            cand --proxy 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)'
            cand --cacert 'Also trust the CA certificates in this PEM file'
            cand -H 'Add this header to every ping, as ''Name: value'' (repeatable)'
            cand --header 'Add this header to every ping, as ''Name: value'' (repeatable)'
            cand --send-log 'Also send a log ping (/log) as an end-to-end test: it is recorded in the check''s log and changes nothing else'
            cand --create 'Create the check named by --slug if the server does not know it yet'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hcwrap;sync'= {
            cand --crontab 'A crontab file in the system''s format, with a user field, such as /etc/crontab or /etc/cron.d/backup (repeatable) [default: your own crontab, through crontab -l]'
            cand --systemd 'The *.timer units in DIR and the services they start (repeatable) [default DIR: /etc/systemd/system for root, else ~/.config/systemd/user]'
            cand --dropin-dir 'Where to write the timers'' drop-in files [default: beside each unit]'
            cand --grace 'The grace of every check [default: a quarter of the time between runs, 1m to 6h]'
            cand --tz 'The schedules'' time zone: cron''s own, where it reads no CRON_TZ line [default: the system''s]'
            cand --hcwrap 'The hcwrap that the wrapped lines run [default: this one''s absolute path]'
            cand --api-url 'The ping API''s base URL [env: HC_API_URL] [default: https://hc-ping.com]'
            cand --ping-key 'The project''s ping key, as file:PATH: the crontab gets HC_PING_KEY=file:PATH, never the key [env: HC_PING_KEY]'
            cand --api-key 'The project''s API key, for the management API, through which hcwrap sets the check up with the settings given (a read-write key; doctor needs only a read-only one) [env: HC_API_KEY]'
            cand --site-url 'The Healthchecks site whose management API to use, when it cannot be told from the ping URL (https://hc-ping.com means https://healthchecks.io, and <site>/ping means <site>) [env: HC_SITE_URL]'
            cand --ping-timeout 'Time limit for each attempt to send a ping'
            cand --ping-retries 'How many times to retry a ping that failed for a reason worth retrying'
            cand --proxy 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)'
            cand --cacert 'Also trust the CA certificates in this PEM file'
            cand -H 'Add this header to every ping, as ''Name: value'' (repeatable)'
            cand --header 'Add this header to every ping, as ''Name: value'' (repeatable)'
            cand --apply 'Set the checks up and install the rewritten crontab (or drop-in files); without it, only print the plan'
            cand --migrate-runitor 'Rewrite lines that runitor wraps to use hcwrap (with the slug derived as for others)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hcwrap;flush'= {
            cand --ping-timeout 'Time limit for each attempt to send a ping'
            cand --ping-retries 'How many times to retry a ping that failed for a reason worth retrying'
            cand --proxy 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)'
            cand --cacert 'Also trust the CA certificates in this PEM file'
            cand -H 'Add this header to every ping, as ''Name: value'' (repeatable)'
            cand --header 'Add this header to every ping, as ''Name: value'' (repeatable)'
            cand --dry-run 'List what is waiting without sending anything'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hcwrap;help'= {
            cand ping 'Send one ping, as a backup tool''s or scheduler''s hook would: start, success, fail, log or an exit status'
            cand probe 'Check an HTTP(S) endpoint and exit 0 if it is healthy, for a container HEALTHCHECK'
            cand doctor 'Check what can silently defeat monitoring: the way to the server, and with an API key the check''s settings, pause and filtering'
            cand sync 'Make a crontab''s jobs (or systemd timers) checks: set each one up with its schedule, and wrap its command with hcwrap'
            cand flush 'Deliver the final pings that earlier runs could not deliver and kept'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hcwrap;help;ping'= {
        }
        &'hcwrap;help;probe'= {
        }
        &'hcwrap;help;doctor'= {
        }
        &'hcwrap;help;sync'= {
        }
        &'hcwrap;help;flush'= {
        }
        &'hcwrap;help;help'= {
        }
    ]
    $completions[$command]
}
