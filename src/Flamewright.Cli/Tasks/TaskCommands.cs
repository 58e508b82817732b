using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Flamewright.Server.Tasks;

namespace Flamewright.Cli.Tasks;

/// <summary>
/// <c>flamewright task create|list|progress|wait|analyze</c>: what swctl does for pprof tasks, against the
/// server's GraphQL and REST endpoints (<c>--server</c>, default http://127.0.0.1:12800).
/// </summary>
internal static class TaskCommands
{
    /// <summary>The server refused or could not be reached.</summary>
    public const int Failed = 2;

    /// <summary><c>task wait</c>: at least one instance failed.</summary>
    public const int SomeFailed = 1;

    /// <summary><c>task wait</c>: the timeout passed first.</summary>
    public const int TimedOut = 3;

    private static readonly string[] s_taskHeader = ["TASK", "EVENT", "CREATED", "DURATION", "INSTANCES"];
    private static readonly string[] s_logHeader = ["TIME", "INSTANCE", "OPERATION", "MESSAGE"];
    private static readonly string[] s_instanceHeader = ["INSTANCE", "STATE", "SINCE", "REASON"];

    public static Command Create()
    {
        var server = new Option<string>("--server")
        {
            Description = $"The server's HTTP address (or ${ServerClient.ServerVariable}).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(ServerClient.ServerVariable) ?? ServerClient.DefaultServer,
            Recursive = true,
        };
        var task = new Command("task", "Create pprof tasks, follow them and analyse their profiles.")
        {
            server, CreateCommand(server), ListCommand(server), ProgressCommand(server), WaitCommand(server), AnalyzeCommand(server),
        };
        return task;
    }

    private static Command CreateCommand(Option<string> server)
    {
        var service = new Option<string>("--service") { Description = "Service name.", Required = true };
        var instances = new Option<string>("--instances") { Description = "Instance names, comma-separated.", Required = true };
        var @event = new Option<string>("--event") { Description = "CPU, HEAP, ALLOCS, BLOCK, MUTEX, GOROUTINE or THREADCREATE.", Required = true };
        @event.AcceptOnlyFromAmong([.. Enum.GetNames<PprofEvent>(), .. Enum.GetNames<PprofEvent>().Select(n => n.ToLowerInvariant())]);
        var duration = new Option<int?>("--duration") { Description = "Minutes, 1 to 15 (CPU, BLOCK, MUTEX)." };
        var dumpPeriod = new Option<int?>("--dump-period") { Description = "BLOCK: block profile rate in ns; MUTEX: mutex profile fraction." };
        var command = new Command("create", "Create a pprof task for instances of a service.") { service, instances, @event, duration, dumpPeriod };
        command.SetAction((parse, cancellation) => Run(parse, server, async client =>
        {
            string serviceId = SkyWalkingIds.ServiceId(parse.GetValue(service)!);
            string[] instanceIds = [.. SplitList(parse.GetValue(instances)!).Select(name => SkyWalkingIds.InstanceId(serviceId, name))];
            JsonNode data = await client.GraphQLAsync("""
                mutation ($request: PprofTaskCreationRequest!) {
                  createPprofTask(pprofTaskCreationRequest: $request) { code errorReason id }
                }
                """,
                new
                {
                    request = new
                    {
                        serviceId,
                        serviceInstanceIds = instanceIds,
                        events = parse.GetValue(@event)!.ToUpperInvariant(),
                        duration = parse.GetValue(duration),
                        dumpPeriod = parse.GetValue(dumpPeriod),
                    },
                }, cancellation).ConfigureAwait(false);
            JsonNode result = data["createPprofTask"]!;
            if ((string?)result["code"] != "SUCCESS")
            {
                throw new ClientException($"{(string?)result["code"]}: {(string?)result["errorReason"]}");
            }

            Console.WriteLine((string?)result["id"]);
            return 0;
        }, cancellation));
        return command;
    }

    private static Command ListCommand(Option<string> server)
    {
        var service = new Option<string>("--service") { Description = "Service name.", Required = true };
        var limit = new Option<int>("--limit") { Description = "Most tasks to list.", DefaultValueFactory = _ => 20 };
        var command = new Command("list", "List a service's tasks, newest first.") { service, limit };
        command.SetAction((parse, cancellation) => Run(parse, server, async client =>
        {
            JsonNode data = await client.GraphQLAsync("""
                query ($request: PprofTaskListRequest!) {
                  queryPprofTaskList(request: $request) { errorReason tasks { id serviceInstanceIds createTime events duration dumpPeriod } }
                }
                """,
                new { request = new { serviceId = SkyWalkingIds.ServiceId(parse.GetValue(service)!), limit = parse.GetValue(limit) } }, cancellation).ConfigureAwait(false);
            JsonNode list = data["queryPprofTaskList"]!;
            if ((string?)list["errorReason"] is { } reason)
            {
                throw new ClientException(reason);
            }

            var rows = new List<string[]> { s_taskHeader };
            foreach (JsonNode? t in list["tasks"]?.AsArray() ?? [])
            {
                rows.Add([
                    (string)t!["id"]!,
                    (string)t["events"]!,
                    Time((long)t["createTime"]!),
                    t["duration"] is { } d ? $"{(int)d} min" : "-",
                    string.Join(",", t["serviceInstanceIds"]!.AsArray().Select(i => InstanceName((string)i!))),
                ]);
            }

            WriteTable(rows);
            return 0;
        }, cancellation));
        return command;
    }

    private static Command ProgressCommand(Option<string> server)
    {
        var taskId = new Argument<string>("TASK_ID");
        var command = new Command("progress", "Show a task's state on each instance and its log.") { taskId };
        command.SetAction((parse, cancellation) => Run(parse, server, async client =>
        {
            JsonNode progress = await ProgressAsync(client, parse.GetValue(taskId)!, cancellation).ConfigureAwait(false);
            WriteInstances(progress);
            Console.WriteLine();
            var rows = new List<string[]> { s_logHeader };
            foreach (JsonNode? log in progress["logs"]?.AsArray() ?? [])
            {
                rows.Add([Time((long)log!["operationTime"]!), (string)log["instanceName"]!, (string)log["operationType"]!, OneLine((string?)log["message"] ?? "")]);
            }

            WriteTable(rows);
            return 0;
        }, cancellation));
        return command;
    }

    private static Command WaitCommand(Option<string> server)
    {
        var taskId = new Argument<string>("TASK_ID");
        var timeout = new Option<TimeSpan>("--timeout") { Description = "Give up after this long (e.g. 00:20:00).", DefaultValueFactory = _ => TimeSpan.FromMinutes(20) };
        var interval = new Option<TimeSpan>("--interval") { Description = "Time between two looks.", DefaultValueFactory = _ => TimeSpan.FromSeconds(2) };
        var command = new Command("wait", "Show live progress until every instance finished or failed; exit 1 if any failed, 3 on timeout.") { taskId, timeout, interval };
        command.SetAction((parse, cancellation) => Run(parse, server, async client =>
        {
            string id = parse.GetValue(taskId)!;
            DateTime deadline = DateTime.UtcNow + parse.GetValue(timeout);
            var shown = new Dictionary<string, string>(StringComparer.Ordinal);
            while (true)
            {
                JsonNode progress = await ProgressAsync(client, id, cancellation).ConfigureAwait(false);
                JsonArray instances = progress["instances"]!.AsArray();
                foreach (JsonNode? instance in instances)
                {
                    string name = (string)instance!["instanceName"]!;
                    string state = (string)instance["state"]!;
                    string line = instance["reason"] is { } reason ? $"{state}: {OneLine((string)reason!)}" : state;
                    if (!shown.TryGetValue(name, out string? before) || before != line)
                    {
                        Console.WriteLine($"{DateTime.Now:HH:mm:ss}  {name}  {line}");
                        shown[name] = line;
                    }
                }

                if (instances.All(i => (string?)i!["state"] is "FINISHED" or "FAILED"))
                {
                    int failed = instances.Count(i => (string?)i!["state"] == "FAILED");
                    Console.WriteLine(failed == 0 ? $"all {instances.Count} instance(s) finished" : $"{failed} of {instances.Count} instance(s) failed");
                    return failed == 0 ? 0 : SomeFailed;
                }

                if (DateTime.UtcNow >= deadline)
                {
                    await Console.Error.WriteLineAsync($"flamewright: task {id} still running after {parse.GetValue(timeout)}").ConfigureAwait(false);
                    return TimedOut;
                }

                await Task.Delay(parse.GetValue(interval), cancellation).ConfigureAwait(false);
            }
        }, cancellation));
        return command;
    }

    private static Command AnalyzeCommand(Option<string> server)
    {
        var taskId = new Argument<string>("TASK_ID");
        var instances = new Option<string?>("--instances") { Description = "Instance names or ids, comma-separated (default: every upload)." };
        var sampleType = new Option<string?>("--sample-type", "-s") { Description = "Sample type by name or index (default: the event's)." };
        var granularity = new Option<string>("--granularity", "-g") { Description = "function or line.", DefaultValueFactory = _ => "function" };
        granularity.AcceptOnlyFromAmong("function", "line");
        var focus = new Option<string?>("--focus") { Description = "Keep only samples with a frame matching this regex." };
        var ignore = new Option<string?>("--ignore") { Description = "Drop samples with a frame matching this regex." };
        var tagFocus = new Option<string?>("--tag-focus") { Description = "Keep only samples whose labels match: key=regex, regex, or a range such as bytes=64kb:." };
        var tagIgnore = new Option<string?>("--tag-ignore") { Description = "Drop samples whose labels match, written as --tag-focus." };
        var tagSplit = new Option<string?>("--tag-split") { Description = "Split the graph by this label key, one root frame per value." };
        var format = new Option<string>("--format", "-f") { Description = "top, folded, svg, speedscope, json or pprof.", DefaultValueFactory = _ => "top" };
        format.AcceptOnlyFromAmong([.. Flamewright.Pprof.Export.ExportFormat.Names]);
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file instead of standard output." };
        var command = new Command("analyze", "Download a task's merged profile or its analysis.") { taskId, instances, sampleType, granularity, focus, ignore, tagFocus, tagIgnore, tagSplit, format, output };
        command.SetAction((parse, cancellation) => Run(parse, server, async client =>
        {
            string id = parse.GetValue(taskId)!;
            var query = new List<string> { $"format={parse.GetValue(format)}", $"granularity={parse.GetValue(granularity)}" };
            if (parse.GetValue(instances) is { } list)
            {
                string serviceId = ServiceIdOfTask(id);
                query.Add("instances=" + Uri.EscapeDataString(string.Join(",", SplitList(list).Select(i => InstanceIdOf(serviceId, i)))));
            }

            AddIfSet(query, "sampleType", parse.GetValue(sampleType));
            AddIfSet(query, "focus", parse.GetValue(focus));
            AddIfSet(query, "ignore", parse.GetValue(ignore));
            AddIfSet(query, "tagFocus", parse.GetValue(tagFocus));
            AddIfSet(query, "tagIgnore", parse.GetValue(tagIgnore));
            AddIfSet(query, "tagSplit", parse.GetValue(tagSplit));
            using HttpResponseMessage response = await client.GetAsync($"/api/tasks/{Uri.EscapeDataString(id)}/profile?{string.Join("&", query)}", cancellation).ConfigureAwait(false);
            string? path = parse.GetValue(output);
            if (path is null)
            {
                await using Stream stdout = Console.OpenStandardOutput();
                await response.Content.CopyToAsync(stdout, cancellation).ConfigureAwait(false);
                return 0;
            }

            // Written beside the destination and moved there when complete: a failed download leaves no partial file.
            string partial = path + ".partial";
            try
            {
                await using (FileStream file = File.Create(partial))
                {
                    await response.Content.CopyToAsync(file, cancellation).ConfigureAwait(false);
                }

                File.Move(partial, path, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or HttpRequestException)
            {
                File.Delete(partial);
                throw new ClientException($"{path}: {OneLine(e.Message)}");
            }

            return 0;
        }, cancellation));
        return command;
    }

    private static async Task<int> Run(ParseResult parse, Option<string> server, Func<ServerClient, Task<int>> action, CancellationToken cancellation)
    {
        if (!Uri.TryCreate(parse.GetValue(server), UriKind.Absolute, out Uri? address) || address.Scheme is not ("http" or "https"))
        {
            await Console.Error.WriteLineAsync($"flamewright: --server '{parse.GetValue(server)}' is not an http:// address").ConfigureAwait(false);
            return Failed;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        if (Environment.GetEnvironmentVariable(ServerClient.TokenVariable) is { Length: > 0 } token)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        try
        {
            return await action(new ServerClient(address, http)).ConfigureAwait(false);
        }
        catch (ClientException e)
        {
            await Console.Error.WriteLineAsync($"flamewright: {OneLine(e.Message)}").ConfigureAwait(false);
            return Failed;
        }
    }

    private static async Task<JsonNode> ProgressAsync(ServerClient client, string taskId, CancellationToken cancellation)
    {
        JsonNode data = await client.GraphQLAsync("""
            query ($taskId: String!) {
              queryPprofTaskProgress(taskId: $taskId) {
                logs { instanceName operationType operationTime message }
                instances { instanceId instanceName state reason since }
              }
            }
            """, new { taskId }, cancellation).ConfigureAwait(false);
        return data["queryPprofTaskProgress"]!;
    }

    private static void WriteInstances(JsonNode progress)
    {
        var rows = new List<string[]> { s_instanceHeader };
        foreach (JsonNode? i in progress["instances"]?.AsArray() ?? [])
        {
            rows.Add([(string)i!["instanceName"]!, (string)i["state"]!, i["since"] is { } s ? Time((long)s) : "-", OneLine((string?)i["reason"] ?? "")]);
        }

        WriteTable(rows);
    }

    /// <summary>The service id inside a task id (<c>createTime_serviceId</c>).</summary>
    private static string ServiceIdOfTask(string taskId)
    {
        int underscore = taskId.IndexOf('_', StringComparison.Ordinal);
        return underscore < 0 ? throw new ClientException($"'{taskId}' is not a task id") : taskId[(underscore + 1)..];
    }

    private static string InstanceIdOf(string serviceId, string nameOrId) =>
        SkyWalkingIds.SplitInstanceId(nameOrId) is { } parts && parts.ServiceId == serviceId ? nameOrId : SkyWalkingIds.InstanceId(serviceId, nameOrId);

    private static string InstanceName(string instanceId) => SkyWalkingIds.SplitInstanceId(instanceId)?.InstanceName ?? instanceId;

    private static string[] SplitList(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static void AddIfSet(List<string> query, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            query.Add($"{name}={Uri.EscapeDataString(value)}");
        }
    }

    private static string Time(long epochMilliseconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds(epochMilliseconds).ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private static void WriteTable(List<string[]> rows)
    {
        int[] widths = [.. Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length))];
        foreach (string[] row in rows)
        {
            Console.WriteLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
        }
    }
}
