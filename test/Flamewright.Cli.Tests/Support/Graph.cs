using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Flamewright.Cli.Tests.Support;

/// <summary>GraphQL against a server process, for the end-to-end tests.</summary>
internal sealed class Graph(string server) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(server), Timeout = TimeSpan.FromSeconds(60) };

    public async Task<JsonNode> DataAsync(string query, object? variables = null)
    {
        using HttpResponseMessage response = await _http.PostAsJsonAsync("/graphql", new { query, variables });
        JsonNode json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(json["errors"] is null, $"GraphQL errors: {json["errors"]?.ToJsonString()}");
        return json["data"]!;
    }

    public Task<string> CreateTaskAsync(string serviceId, string instanceId, string events, int? duration = null, int? dumpPeriod = null) =>
        CreateTaskAsync(serviceId, [instanceId], events, duration, dumpPeriod);

    public async Task<string> CreateTaskAsync(string serviceId, string[] instanceIds, string events, int? duration = null, int? dumpPeriod = null)
    {
        JsonNode result = (await DataAsync(
            "mutation ($r: PprofTaskCreationRequest!) { createPprofTask(pprofTaskCreationRequest: $r) { code errorReason id } }",
            new { r = new { serviceId, serviceInstanceIds = instanceIds, events, duration, dumpPeriod } }))["createPprofTask"]!;
        Assert.True((string?)result["code"] == "SUCCESS", result.ToJsonString());
        return (string)result["id"]!;
    }

    /// <summary>Waits until every instance of the task finished or failed; returns the instances' progress.</summary>
    public async Task<JsonArray> WaitAsync(string taskId, TimeSpan timeout)
    {
        DateTime until = DateTime.UtcNow + timeout;
        while (true)
        {
            JsonArray instances = (await DataAsync(
                "query ($id: String!) { queryPprofTaskProgress(taskId: $id) { instances { instanceName state reason } } }",
                new { id = taskId }))["queryPprofTaskProgress"]!["instances"]!.AsArray();
            if (instances.All(i => (string?)i!["state"] is "FINISHED" or "FAILED"))
            {
                return instances;
            }

            Assert.True(DateTime.UtcNow < until, $"task {taskId} still running after {timeout}: {instances.ToJsonString()}");
            await Task.Delay(200);
        }
    }

    public async Task<byte[]> DownloadAsync(string taskId) =>
        await _http.GetByteArrayAsync($"/api/tasks/{Uri.EscapeDataString(taskId)}/profile?format=pprof");

    public void Dispose() => _http.Dispose();
}
