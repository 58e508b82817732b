using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Flamewright.Server.Tests.Support;

/// <summary>Posts GraphQL documents to the server as the SkyWalking UI and swctl do.</summary>
internal sealed class GraphQLClient(Uri server) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };

    public HttpClient Http => _http;

    /// <summary>The whole response: <c>data</c> and <c>errors</c>.</summary>
    public async Task<JsonNode> PostAsync(string query, object? variables = null)
    {
        using HttpResponseMessage response = await _http.PostAsJsonAsync("/graphql", new { query, variables });
        string body = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(body) ?? throw new InvalidOperationException("empty GraphQL response");
    }

    /// <summary>The <c>data</c> of a query that must succeed.</summary>
    public async Task<JsonNode> DataAsync(string query, object? variables = null)
    {
        JsonNode response = await PostAsync(query, variables);
        Assert.True(response["errors"] is null, $"GraphQL errors: {response["errors"]?.ToJsonString()}");
        return response["data"]!;
    }

    /// <summary>The first error message of a query that must fail.</summary>
    public async Task<string> ErrorAsync(string query, object? variables = null)
    {
        JsonNode response = await PostAsync(query, variables);
        Assert.True(response["errors"] is JsonArray { Count: > 0 }, $"expected a GraphQL error, got {response.ToJsonString()}");
        return (string)response["errors"]![0]!["message"]!;
    }

    /// <summary>Creates a task and returns its id; fails the test unless the answer is SUCCESS.</summary>
    public async Task<string> CreateTaskAsync(string serviceId, IEnumerable<string> instanceIds, string events, int? duration = null, int? dumpPeriod = null)
    {
        JsonNode result = await CreateTaskResultAsync(serviceId, instanceIds, events, duration, dumpPeriod);
        Assert.True((string?)result["code"] == "SUCCESS", $"task creation failed: {result.ToJsonString()}");
        return (string)result["id"]!;
    }

    public async Task<JsonNode> CreateTaskResultAsync(string serviceId, IEnumerable<string> instanceIds, string events, int? duration = null, int? dumpPeriod = null)
    {
        JsonNode data = await DataAsync(
            "mutation ($r: PprofTaskCreationRequest!) { createPprofTask(pprofTaskCreationRequest: $r) { code errorReason id } }",
            new { r = new { serviceId, serviceInstanceIds = instanceIds.ToArray(), events, duration, dumpPeriod } });
        return data["createPprofTask"]!;
    }

    public async Task<JsonNode> ProgressAsync(string taskId) =>
        (await DataAsync(
            """
            query ($id: String!) { queryPprofTaskProgress(taskId: $id) {
              logs { id instanceId instanceName operationType operationTime message }
              errorInstanceIds successInstanceIds
              instances { instanceId instanceName state reason since } } }
            """, new { id = taskId }))["queryPprofTaskProgress"]!;

    public void Dispose() => _http.Dispose();
}
