using System.Text;
using Flamewright.Server.Configuration;
using Flamewright.Server.Hosting;
using GraphQL.Validation;
using GraphQLParser.AST;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Flamewright.Server.Query;

/// <summary>What an HTTP caller may do.</summary>
public enum ApiAccessLevel
{
    /// <summary>Queries and mutations (task creation): no API token is configured, or the caller sent <see cref="ServerOptions.ApiToken"/>.</summary>
    Full,

    /// <summary>Queries and downloads only: the caller sent <see cref="ServerOptions.ReadOnlyApiToken"/>.</summary>
    ReadOnly,
}

/// <summary>
/// The API tokens on the HTTP port: with <see cref="ServerOptions.ApiToken"/> or
/// <see cref="ServerOptions.ReadOnlyApiToken"/> set, <c>/graphql</c> and <c>/api/…</c> need
/// <c>Authorization: Bearer TOKEN</c> (or HTTP Basic with the token as password, for clients such as
/// <c>swctl</c> that only speak that). The UI's own files, <c>/healthz</c> and the agents' gRPC port are not
/// behind it: the files hold no data, the health check is for load balancers, and agents have their own token.
/// </summary>
public static partial class ApiAccess
{
    /// <summary>Where a caller learns what its token allows: <c>{"access":"full"|"read-only"}</c>.</summary>
    public const string AccessPath = "/api/access";

    private const string LevelItem = "flamewright.access";

    /// <summary>The caller's level, as the middleware decided it.</summary>
    public static ApiAccessLevel LevelOf(HttpContext context) =>
        context.Items.TryGetValue(LevelItem, out object? level) && level is ApiAccessLevel known ? known : ApiAccessLevel.Full;

    internal static WebApplication UseApiTokens(this WebApplication app, ServerOptions options)
    {
        var full = new Token(options.ApiToken);
        var readOnly = new Token(options.ReadOnlyApiToken);
        ILogger logger = app.Services.GetRequiredLogger(typeof(ApiAccess).FullName!);
        app.Use(async (context, next) =>
        {
            if (!Guards(context.Request.Path) || (!full.IsSet && !readOnly.IsSet))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            string? presented = Presented(context.Request.Headers.Authorization);
            if (full.Matches(presented))
            {
                context.Items[LevelItem] = ApiAccessLevel.Full;
            }
            else if (readOnly.Matches(presented))
            {
                context.Items[LevelItem] = ApiAccessLevel.ReadOnly;
            }
            else
            {
                // The presented value is never logged: a typo of the real token is nearly the token.
                LogRefused(logger, new LogText(context.Request.Path.Value), presented is null ? "no token" : "a wrong token", context.Connection.RemoteIpAddress?.ToString() ?? "?");
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"flamewright\"";
                await context.Response.WriteAsJsonAsync(
                    new { errors = new[] { new { message = "this server needs an API token: send Authorization: Bearer TOKEN" } } },
                    context.RequestAborted).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });
        return app;
    }

    internal static IEndpointRouteBuilder MapApiAccess(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(AccessPath, (HttpContext context) =>
            Results.Json(new { access = LevelOf(context) == ApiAccessLevel.ReadOnly ? "read-only" : "full" }));
        return endpoints;
    }

    private static bool Guards(PathString path) =>
        path.StartsWithSegments(GraphQLEndpoint.Path, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);

    /// <summary>The token in <c>Bearer TOKEN</c>, or the password of <c>Basic base64(user:TOKEN)</c>.</summary>
    private static string? Presented(string? authorization)
    {
        if (string.IsNullOrEmpty(authorization))
        {
            return null;
        }

        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                string pair = Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..].Trim()));
                int colon = pair.IndexOf(':', StringComparison.Ordinal);
                return colon >= 0 ? pair[(colon + 1)..] : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }

    private static ILogger GetRequiredLogger(this IServiceProvider services, string category) =>
        ((ILoggerFactory)services.GetService(typeof(ILoggerFactory))!).CreateLogger(category);

    [LoggerMessage(EventId = 450, Level = LogLevel.Warning, Message = "Refused {Path}: {What} from {Remote}")]
    private static partial void LogRefused(ILogger logger, LogText path, string what, string remote);
}

/// <summary>Refuses mutations (task creation) to a caller with the read-only token, before anything runs.</summary>
internal sealed class ReadOnlyAccessRule(ApiAccessLevel level) : ValidationRuleBase
{
    public override ValueTask<INodeVisitor?> GetPreNodeVisitorAsync(ValidationContext context) =>
        new(level == ApiAccessLevel.ReadOnly
            ? new MatchingNodeVisitor<GraphQLOperationDefinition>((operation, validation) =>
            {
                if (operation.Operation == OperationType.Mutation)
                {
                    validation.ReportError(new ValidationError("this API token is read-only: it can query, not create tasks or change dashboards"));
                }
            })
            : null);
}
