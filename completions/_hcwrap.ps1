
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'hcwrap' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'hcwrap'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'hcwrap' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'The check''s full ping URL, as its page shows it [env: HC_PING_URL]')
            [CompletionResult]::new('--uuid', '--uuid', [CompletionResultType]::ParameterName, 'The check''s UUID [env: CHECK_UUID]')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'The ping API''s base URL, for --uuid and --slug [env: HC_API_URL] [default: https://hc-ping.com]')
            [CompletionResult]::new('--slug', '--slug', [CompletionResultType]::ParameterName, 'The check''s slug, with --ping-key or --api-key [env: CHECK_SLUG]')
            [CompletionResult]::new('--ping-key', '--ping-key', [CompletionResultType]::ParameterName, 'The project''s ping key, for --slug [env: HC_PING_KEY, then PING_KEY]')
            [CompletionResult]::new('--on-success', '--on-success', [CompletionResultType]::ParameterName, 'The ping to send when the command exits with status 0')
            [CompletionResult]::new('--on-nonzero-exit', '--on-nonzero-exit', [CompletionResultType]::ParameterName, 'The ping to send when the command exits with another status or is killed')
            [CompletionResult]::new('--on-exec-fail', '--on-exec-fail', [CompletionResultType]::ParameterName, 'The ping to send when the command cannot be started')
            [CompletionResult]::new('--body-limit', '--body-limit', [CompletionResultType]::ParameterName, 'Send at most this many bytes of output (can only lower the server''s limit)')
            [CompletionResult]::new('--redact', '--redact', [CompletionResultType]::ParameterName, 'Replace VALUE by [redacted] in the output sent with the final ping (repeatable)')
            [CompletionResult]::new('--redact-env', '--redact-env', [CompletionResultType]::ParameterName, 'Replace the value of environment variable NAME by [redacted] in the output sent (repeatable)')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The project''s API key, for the management API, through which hcwrap sets the check up with the settings given (a read-write key; doctor needs only a read-only one) [env: HC_API_KEY]')
            [CompletionResult]::new('--site-url', '--site-url', [CompletionResultType]::ParameterName, 'The Healthchecks site whose management API to use, when it cannot be told from the ping URL (https://hc-ping.com means https://healthchecks.io, and <site>/ping means <site>) [env: HC_SITE_URL]')
            [CompletionResult]::new('--schedule', '--schedule', [CompletionResultType]::ParameterName, 'When the job runs: a five-field cron expression (or @daily, @hourly, ...) or a systemd OnCalendar expression')
            [CompletionResult]::new('--tz', '--tz', [CompletionResultType]::ParameterName, 'The schedule''s time zone, such as Europe/Riga [default: CRON_TZ, else TZ, else the system''s]')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'How late a run may be before the check is reported down (1m to 365d)')
            [CompletionResult]::new('--period', '--period', [CompletionResultType]::ParameterName, 'Instead of a schedule: how often the job runs (1m to 365d)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The check''s name in the web UI [default: the slug, for a check named by slug]')
            [CompletionResult]::new('--tags', '--tags', [CompletionResultType]::ParameterName, 'The check''s tags, separated by spaces')
            [CompletionResult]::new('--desc', '--desc', [CompletionResultType]::ParameterName, 'The check''s description')
            [CompletionResult]::new('--channels', '--channels', [CompletionResultType]::ParameterName, 'The integrations to notify: ''*'' for all, '''' for none, or a comma-separated list of their names or UUIDs')
            [CompletionResult]::new('--ping-timeout', '--ping-timeout', [CompletionResultType]::ParameterName, 'Time limit for each attempt to send a ping')
            [CompletionResult]::new('--ping-retries', '--ping-retries', [CompletionResultType]::ParameterName, 'How many times to retry a ping that failed for a reason worth retrying')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in this PEM file')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Add this header to every ping, as ''Name: value'' (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Add this header to every ping, as ''Name: value'' (repeatable)')
            [CompletionResult]::new('--tolerate', '--tolerate', [CompletionResultType]::ParameterName, 'Report up to N failures in a row as log pings; the next one as a failure (a success resets the count)')
            [CompletionResult]::new('--min-runtime', '--min-runtime', [CompletionResultType]::ParameterName, 'Count a run that exits 0 sooner than DURATION as failed')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Count a run that exits 0 as failed when a line of its output contains TEXT (plain text, case-sensitive; repeatable)')
            [CompletionResult]::new('--fail-exit', '--fail-exit', [CompletionResultType]::ParameterName, 'Exit with STATUS instead of 0 when --min-runtime, --fail-on-stderr or --fail-on counts a run as failed')
            [CompletionResult]::new('--run-log', '--run-log', [CompletionResultType]::ParameterName, 'Append one JSON line per run to FILE')
            [CompletionResult]::new('--metrics-file', '--metrics-file', [CompletionResultType]::ParameterName, 'Keep the last run''s numbers in FILE, in node_exporter''s textfile format (labelled by check)')
            [CompletionResult]::new('--lock', '--lock', [CompletionResultType]::ParameterName, 'Run only if no other run holds the lock (default file: named from the check, in $XDG_RUNTIME_DIR, else /run/hcwrap for root, else ~/.cache/hcwrap)')
            [CompletionResult]::new('--on-lock-busy', '--on-lock-busy', [CompletionResultType]::ParameterName, 'The ping to send when --lock finds a previous run still running')
            [CompletionResult]::new('--every', '--every', [CompletionResultType]::ParameterName, 'Run the command now and then every DURATION after the first start, until a signal ends hcwrap')
            [CompletionResult]::new('--jitter', '--jitter', [CompletionResultType]::ParameterName, 'Wait a random time up to DURATION before each run')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Stop the command (SIGTERM to its process group) after it ran this long, and exit 124')
            [CompletionResult]::new('--kill-after', '--kill-after', [CompletionResultType]::ParameterName, 'After passing on SIGINT, SIGTERM, SIGHUP or SIGQUIT, or a timeout''s SIGTERM, send SIGKILL if the command still runs after this long')
            [CompletionResult]::new('--create', '--create', [CompletionResultType]::ParameterName, 'Create the check named by --slug if the server does not know it yet')
            [CompletionResult]::new('--no-start-ping', '--no-start-ping', [CompletionResultType]::ParameterName, 'Do not send a start ping')
            [CompletionResult]::new('--no-run-id', '--no-run-id', [CompletionResultType]::ParameterName, 'Do not tag the pings with a run id (rid=)')
            [CompletionResult]::new('--no-output', '--no-output', [CompletionResultType]::ParameterName, 'Send no output with the final ping, only how the run ended')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the pings instead of sending them')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to run (exit 125) when the environment names no usable check, instead of running the command unmonitored')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Do not show the command''s stdout (it is still captured)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not show the command''s stdout (it is still captured)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Do not show the command''s stdout or stderr (both are still captured), nor hcwrap''s notices (a timeout, a signal, a skipped run); errors and warnings still show')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Do not show the command''s stdout or stderr (both are still captured), nor hcwrap''s notices (a timeout, a signal, a skipped run); errors and warnings still show')
            [CompletionResult]::new('--fail-on-stderr', '--fail-on-stderr', [CompletionResultType]::ParameterName, 'Count a run that exits 0 but writes to stderr as failed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('ping', 'ping', [CompletionResultType]::ParameterValue, 'Send one ping, as a backup tool''s or scheduler''s hook would: start, success, fail, log or an exit status')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Check an HTTP(S) endpoint and exit 0 if it is healthy, for a container HEALTHCHECK')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check what can silently defeat monitoring: the way to the server, and with an API key the check''s settings, pause and filtering')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Make a crontab''s jobs (or systemd timers) checks: set each one up with its schedule, and wrap its command with hcwrap')
            [CompletionResult]::new('flush', 'flush', [CompletionResultType]::ParameterValue, 'Deliver the final pings that earlier runs could not deliver and kept')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hcwrap;ping' {
            [CompletionResult]::new('--rid', '--rid', [CompletionResultType]::ParameterName, 'The run id to report into [env: HC_RUN_ID, as hcwrap sets it for a wrapped command]')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'The ping''s body (it may start with ''-'', as an error text may)')
            [CompletionResult]::new('--message-env', '--message-env', [CompletionResultType]::ParameterName, 'The ping''s body is the value of environment variable NAME (no shell quoting to get wrong)')
            [CompletionResult]::new('--body-file', '--body-file', [CompletionResultType]::ParameterName, 'Read the ping''s body from this file, or from stdin with ''-''; the tail is kept')
            [CompletionResult]::new('--body-limit', '--body-limit', [CompletionResultType]::ParameterName, 'Send at most this many bytes of body')
            [CompletionResult]::new('--max-time', '--max-time', [CompletionResultType]::ParameterName, 'Give up on the ping after this long in all, retries included')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'The check''s full ping URL, as its page shows it [env: HC_PING_URL]')
            [CompletionResult]::new('--uuid', '--uuid', [CompletionResultType]::ParameterName, 'The check''s UUID [env: CHECK_UUID]')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'The ping API''s base URL, for --uuid and --slug [env: HC_API_URL] [default: https://hc-ping.com]')
            [CompletionResult]::new('--slug', '--slug', [CompletionResultType]::ParameterName, 'The check''s slug, with --ping-key or --api-key [env: CHECK_SLUG]')
            [CompletionResult]::new('--ping-key', '--ping-key', [CompletionResultType]::ParameterName, 'The project''s ping key, for --slug [env: HC_PING_KEY, then PING_KEY]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The project''s API key, for the management API, through which hcwrap sets the check up with the settings given (a read-write key; doctor needs only a read-only one) [env: HC_API_KEY]')
            [CompletionResult]::new('--site-url', '--site-url', [CompletionResultType]::ParameterName, 'The Healthchecks site whose management API to use, when it cannot be told from the ping URL (https://hc-ping.com means https://healthchecks.io, and <site>/ping means <site>) [env: HC_SITE_URL]')
            [CompletionResult]::new('--schedule', '--schedule', [CompletionResultType]::ParameterName, 'When the job runs: a five-field cron expression (or @daily, @hourly, ...) or a systemd OnCalendar expression')
            [CompletionResult]::new('--tz', '--tz', [CompletionResultType]::ParameterName, 'The schedule''s time zone, such as Europe/Riga [default: CRON_TZ, else TZ, else the system''s]')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'How late a run may be before the check is reported down (1m to 365d)')
            [CompletionResult]::new('--period', '--period', [CompletionResultType]::ParameterName, 'Instead of a schedule: how often the job runs (1m to 365d)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The check''s name in the web UI [default: the slug, for a check named by slug]')
            [CompletionResult]::new('--tags', '--tags', [CompletionResultType]::ParameterName, 'The check''s tags, separated by spaces')
            [CompletionResult]::new('--desc', '--desc', [CompletionResultType]::ParameterName, 'The check''s description')
            [CompletionResult]::new('--channels', '--channels', [CompletionResultType]::ParameterName, 'The integrations to notify: ''*'' for all, '''' for none, or a comma-separated list of their names or UUIDs')
            [CompletionResult]::new('--ping-timeout', '--ping-timeout', [CompletionResultType]::ParameterName, 'Time limit for each attempt to send a ping')
            [CompletionResult]::new('--ping-retries', '--ping-retries', [CompletionResultType]::ParameterName, 'How many times to retry a ping that failed for a reason worth retrying')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in this PEM file')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Add this header to every ping, as ''Name: value'' (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Add this header to every ping, as ''Name: value'' (repeatable)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the ping instead of sending it')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Exit 1 when the ping is not delivered, and 125 when the environment names no usable check (default: a warning, and exit 0, so that the monitor never fails the hook)')
            [CompletionResult]::new('--create', '--create', [CompletionResultType]::ParameterName, 'Create the check named by --slug if the server does not know it yet')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hcwrap;probe' {
            [CompletionResult]::new('--expect-status', '--expect-status', [CompletionResultType]::ParameterName, 'Healthy only with exactly this status (default: any 2xx)')
            [CompletionResult]::new('--expect-body', '--expect-body', [CompletionResultType]::ParameterName, 'Healthy only if the answer''s body contains TEXT')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Send this Host header (a server behind a proxy or in a container may want its own name)')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Add this header, as ''Name: value'' (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Add this header, as ''Name: value'' (repeatable)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Time limit for the whole probe, retries included')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Try again this many times when the endpoint is not healthy')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in this PEM file')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing; the exit status says it all')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing; the exit status says it all')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hcwrap;doctor' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'The check''s full ping URL, as its page shows it [env: HC_PING_URL]')
            [CompletionResult]::new('--uuid', '--uuid', [CompletionResultType]::ParameterName, 'The check''s UUID [env: CHECK_UUID]')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'The ping API''s base URL, for --uuid and --slug [env: HC_API_URL] [default: https://hc-ping.com]')
            [CompletionResult]::new('--slug', '--slug', [CompletionResultType]::ParameterName, 'The check''s slug, with --ping-key or --api-key [env: CHECK_SLUG]')
            [CompletionResult]::new('--ping-key', '--ping-key', [CompletionResultType]::ParameterName, 'The project''s ping key, for --slug [env: HC_PING_KEY, then PING_KEY]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The project''s API key, for the management API, through which hcwrap sets the check up with the settings given (a read-write key; doctor needs only a read-only one) [env: HC_API_KEY]')
            [CompletionResult]::new('--site-url', '--site-url', [CompletionResultType]::ParameterName, 'The Healthchecks site whose management API to use, when it cannot be told from the ping URL (https://hc-ping.com means https://healthchecks.io, and <site>/ping means <site>) [env: HC_SITE_URL]')
            [CompletionResult]::new('--schedule', '--schedule', [CompletionResultType]::ParameterName, 'When the job runs: a five-field cron expression (or @daily, @hourly, ...) or a systemd OnCalendar expression')
            [CompletionResult]::new('--tz', '--tz', [CompletionResultType]::ParameterName, 'The schedule''s time zone, such as Europe/Riga [default: CRON_TZ, else TZ, else the system''s]')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'How late a run may be before the check is reported down (1m to 365d)')
            [CompletionResult]::new('--period', '--period', [CompletionResultType]::ParameterName, 'Instead of a schedule: how often the job runs (1m to 365d)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The check''s name in the web UI [default: the slug, for a check named by slug]')
            [CompletionResult]::new('--tags', '--tags', [CompletionResultType]::ParameterName, 'The check''s tags, separated by spaces')
            [CompletionResult]::new('--desc', '--desc', [CompletionResultType]::ParameterName, 'The check''s description')
            [CompletionResult]::new('--channels', '--channels', [CompletionResultType]::ParameterName, 'The integrations to notify: ''*'' for all, '''' for none, or a comma-separated list of their names or UUIDs')
            [CompletionResult]::new('--ping-timeout', '--ping-timeout', [CompletionResultType]::ParameterName, 'Time limit for each attempt to send a ping')
            [CompletionResult]::new('--ping-retries', '--ping-retries', [CompletionResultType]::ParameterName, 'How many times to retry a ping that failed for a reason worth retrying')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in this PEM file')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Add this header to every ping, as ''Name: value'' (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Add this header to every ping, as ''Name: value'' (repeatable)')
            [CompletionResult]::new('--send-log', '--send-log', [CompletionResultType]::ParameterName, 'Also send a log ping (/log) as an end-to-end test: it is recorded in the check''s log and changes nothing else')
            [CompletionResult]::new('--create', '--create', [CompletionResultType]::ParameterName, 'Create the check named by --slug if the server does not know it yet')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hcwrap;sync' {
            [CompletionResult]::new('--crontab', '--crontab', [CompletionResultType]::ParameterName, 'A crontab file in the system''s format, with a user field, such as /etc/crontab or /etc/cron.d/backup (repeatable) [default: your own crontab, through crontab -l]')
            [CompletionResult]::new('--systemd', '--systemd', [CompletionResultType]::ParameterName, 'The *.timer units in DIR and the services they start (repeatable) [default DIR: /etc/systemd/system for root, else ~/.config/systemd/user]')
            [CompletionResult]::new('--dropin-dir', '--dropin-dir', [CompletionResultType]::ParameterName, 'Where to write the timers'' drop-in files [default: beside each unit]')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'The grace of every check [default: a quarter of the time between runs, 1m to 6h]')
            [CompletionResult]::new('--tz', '--tz', [CompletionResultType]::ParameterName, 'The schedules'' time zone: cron''s own, where it reads no CRON_TZ line [default: the system''s]')
            [CompletionResult]::new('--hcwrap', '--hcwrap', [CompletionResultType]::ParameterName, 'The hcwrap that the wrapped lines run [default: this one''s absolute path]')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'The ping API''s base URL [env: HC_API_URL] [default: https://hc-ping.com]')
            [CompletionResult]::new('--ping-key', '--ping-key', [CompletionResultType]::ParameterName, 'The project''s ping key, as file:PATH: the crontab gets HC_PING_KEY=file:PATH, never the key [env: HC_PING_KEY]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The project''s API key, for the management API, through which hcwrap sets the check up with the settings given (a read-write key; doctor needs only a read-only one) [env: HC_API_KEY]')
            [CompletionResult]::new('--site-url', '--site-url', [CompletionResultType]::ParameterName, 'The Healthchecks site whose management API to use, when it cannot be told from the ping URL (https://hc-ping.com means https://healthchecks.io, and <site>/ping means <site>) [env: HC_SITE_URL]')
            [CompletionResult]::new('--ping-timeout', '--ping-timeout', [CompletionResultType]::ParameterName, 'Time limit for each attempt to send a ping')
            [CompletionResult]::new('--ping-retries', '--ping-retries', [CompletionResultType]::ParameterName, 'How many times to retry a ping that failed for a reason worth retrying')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in this PEM file')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Add this header to every ping, as ''Name: value'' (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Add this header to every ping, as ''Name: value'' (repeatable)')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Set the checks up and install the rewritten crontab (or drop-in files); without it, only print the plan')
            [CompletionResult]::new('--migrate-runitor', '--migrate-runitor', [CompletionResultType]::ParameterName, 'Rewrite lines that runitor wraps to use hcwrap (with the slug derived as for others)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hcwrap;flush' {
            [CompletionResult]::new('--ping-timeout', '--ping-timeout', [CompletionResultType]::ParameterName, 'Time limit for each attempt to send a ping')
            [CompletionResult]::new('--ping-retries', '--ping-retries', [CompletionResultType]::ParameterName, 'How many times to retry a ping that failed for a reason worth retrying')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in this PEM file')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Add this header to every ping, as ''Name: value'' (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Add this header to every ping, as ''Name: value'' (repeatable)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'List what is waiting without sending anything')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hcwrap;help' {
            [CompletionResult]::new('ping', 'ping', [CompletionResultType]::ParameterValue, 'Send one ping, as a backup tool''s or scheduler''s hook would: start, success, fail, log or an exit status')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Check an HTTP(S) endpoint and exit 0 if it is healthy, for a container HEALTHCHECK')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check what can silently defeat monitoring: the way to the server, and with an API key the check''s settings, pause and filtering')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Make a crontab''s jobs (or systemd timers) checks: set each one up with its schedule, and wrap its command with hcwrap')
            [CompletionResult]::new('flush', 'flush', [CompletionResultType]::ParameterValue, 'Deliver the final pings that earlier runs could not deliver and kept')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hcwrap;help;ping' {
            break
        }
        'hcwrap;help;probe' {
            break
        }
        'hcwrap;help;doctor' {
            break
        }
        'hcwrap;help;sync' {
            break
        }
        'hcwrap;help;flush' {
            break
        }
        'hcwrap;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
