using Flamewright.Server.Configuration;
using GraphQL;
using GraphQL.SystemTextJson;
using GraphQL.Types;
using GraphQL.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flamewright.Server.Query;

/// <summary>
/// <c>POST /graphql</c> with a <c>{query, variables, operationName}</c> body, answered with GraphQL's
/// <c>{data, errors}</c>. The schema is <c>schema.graphql</c>, embedded; a test compares the schema GraphQL.NET
/// builds from it with the checked-in baseline.
/// </summary>
public static partial class GraphQLEndpoint
{
    /// <summary>Path of the endpoint, as SkyWalking serves it.</summary>
    public const string Path = "/graphql";

    /// <summary>The schema's SDL, as embedded in this assembly.</summary>
    public static string SchemaText
    {
        get
        {
            using Stream stream = typeof(GraphQLEndpoint).Assembly.GetManifestResourceStream("Flamewright.Server.schema.graphql")
                ?? throw new InvalidOperationException("the GraphQL schema is not embedded");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }

    internal static IServiceCollection AddGraphQLEndpoint(this IServiceCollection services)
    {
        services.AddSingleton<QueryResolvers>();
        services.AddSingleton<MutationResolvers>();
        services.AddSingleton<IDocumentExecuter, DocumentExecuter>();
        services.AddSingleton<GraphQLSerializer>();
        services.AddSingleton<ISchema>(provider =>
        {
            Schema schema = Schema.For(SchemaText, builder =>
            {
                builder.ServiceProvider = provider;
                builder.Types.Include<QueryResolvers>();
                builder.Types.Include<MutationResolvers>();
            });
            schema.Initialize();
            return schema;
        });
        return services;
    }

    internal static IEndpointRouteBuilder MapGraphQLEndpoint(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(Path, HandleAsync);
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext context, ISchema schema, IDocumentExecuter executer, GraphQLSerializer serializer, ServerOptions options, ILoggerFactory loggers)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = options.MaxRequestBodyBytes;
        }

        GraphQLRequest? request;
        try
        {
            request = await serializer.ReadAsync<GraphQLRequest>(context.Request.Body, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or BadHttpRequestException or InvalidOperationException or NotSupportedException)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"the request body is not a GraphQL request: {OneLine(e)}").ConfigureAwait(false);
            return;
        }

        if (request is null || string.IsNullOrWhiteSpace(request.Query))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "the request has no query").ConfigureAwait(false);
            return;
        }

        ExecutionResult result = await executer.ExecuteAsync(execution =>
        {
            execution.Schema = schema;
            execution.Query = request.Query;
            execution.Variables = request.Variables;
            execution.OperationName = request.OperationName;
            execution.RequestServices = context.RequestServices;
            execution.CancellationToken = context.RequestAborted;
            execution.UnhandledExceptionDelegate = failure =>
            {
                // A fault of ours, not of the request: logged with its stack, answered without internals.
                LogResolverFailed(loggers.CreateLogger(typeof(GraphQLEndpoint).FullName!), failure.FieldContext?.FieldDefinition.Name ?? "(none)", failure.OriginalException);
                failure.ErrorMessage = "internal server error; the server log has the details";
                return Task.CompletedTask;
            };
        }).ConfigureAwait(false);
        context.Response.ContentType = "application/json; charset=utf-8";
        await serializer.WriteAsync(context.Response.Body, result, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsJsonAsync(new { errors = new[] { new { message } } }, context.RequestAborted).ConfigureAwait(false);
    }

    private static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ");

    [LoggerMessage(EventId = 400, Level = LogLevel.Error, Message = "GraphQL field {Field} failed")]
    private static partial void LogResolverFailed(ILogger logger, string field, Exception exception);
}
