using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flamewright.Cli.Tasks;

/// <summary>A request to the server that failed; the message is one line for the user.</summary>
internal sealed class ClientException(string message) : Exception(message)
{
    public ClientException()
        : this("the request failed")
    {
    }

    public ClientException(string message, Exception innerException)
        : this(message + ": " + innerException.Message)
    {
    }
}

/// <summary>The HTTP side of the server, as the task commands use it: GraphQL queries and REST downloads.</summary>
internal sealed class ServerClient(Uri server, HttpClient http)
{
    /// <summary>The server a command talks to unless <c>--server</c> says otherwise.</summary>
    public const string DefaultServer = "http://127.0.0.1:12800";

    /// <summary>Environment variable that sets the server for every task command.</summary>
    public const string ServerVariable = "FLAMEWRIGHT_SERVER_URL";

    /// <summary>
    /// Environment variable holding the API token (<c>Authorization: Bearer …</c>) for a server that needs one.
    /// Not a flag, so that it never shows in a process list.
    /// </summary>
    public const string TokenVariable = "FLAMEWRIGHT_API_TOKEN";

    public Uri Server { get; } = server;

    /// <summary>Runs a GraphQL operation and returns its <c>data</c>; GraphQL errors become a <see cref="ClientException"/>.</summary>
    public async Task<JsonNode> GraphQLAsync(string query, object variables, CancellationToken cancellationToken)
    {
        HttpResponseMessage response = await SendAsync(
            () => http.PostAsJsonAsync(new Uri(Server, "/graphql"), new { query, variables }, cancellationToken), cancellationToken).ConfigureAwait(false);
        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            JsonNode? json;
            try
            {
                json = JsonNode.Parse(body);
            }
            catch (JsonException)
            {
                throw new ClientException($"{Server} answered HTTP {(int)response.StatusCode} with something that is not GraphQL");
            }

            if (json?["errors"] is JsonArray { Count: > 0 } errors)
            {
                throw new ClientException(errors[0]?["message"]?.GetValue<string>() ?? "the server reported an error");
            }

            return json?["data"] ?? throw new ClientException($"{Server} answered HTTP {(int)response.StatusCode} without data");
        }
    }

    /// <summary>GETs a path; a non-success status becomes a <see cref="ClientException"/> carrying the server's one-line reason.</summary>
    public async Task<HttpResponseMessage> GetAsync(string pathAndQuery, CancellationToken cancellationToken)
    {
        HttpResponseMessage response = await SendAsync(
            () => http.GetAsync(new Uri(Server, pathAndQuery), HttpCompletionOption.ResponseHeadersRead, cancellationToken), cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            string reason = (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Trim();
            response.Dispose();
            throw new ClientException(reason.Length > 0 ? reason : $"HTTP {(int)response.StatusCode}");
        }

        return response;
    }

    private async Task<HttpResponseMessage> SendAsync(Func<Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await send().ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ClientException($"cannot reach {Server}: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ClientException($"{Server} did not answer in time");
        }

        if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
        {
            bool sent = http.DefaultRequestHeaders.Authorization is not null;
            response.Dispose();
            throw new ClientException(sent
                ? $"{Server} refused the API token in {TokenVariable}"
                : $"{Server} needs an API token: set {TokenVariable}");
        }

        return response;
    }
}
