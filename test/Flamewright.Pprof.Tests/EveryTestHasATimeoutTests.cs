using System.Reflection;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests;

public sealed class EveryTestHasATimeoutTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task Every_fact_and_theory_in_this_project_has_a_timeout_and_returns_a_task() => Spec.Run(() =>
    {
        var tests = typeof(EveryTestHasATimeoutTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Fact: m.GetCustomAttribute<FactAttribute>()))
            .Where(t => t.Fact is not null)
            .ToList();

        Assert.NotEmpty(tests);
        Assert.All(tests, t =>
        {
            Assert.True(t.Fact!.Timeout > 0, $"{t.Method.DeclaringType!.Name}.{t.Method.Name} has no timeout");
            Assert.True(typeof(Task).IsAssignableFrom(t.Method.ReturnType), $"{t.Method.DeclaringType!.Name}.{t.Method.Name} must return a Task for xUnit to enforce its timeout");
        });
    });
}
