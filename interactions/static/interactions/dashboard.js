/* The statistics dashboard's charts, drawn with Chart.js from the figures the page embeds
 * (#dashboard-data, see interactions/dashboard.py). Clicking a bar or a slice opens the
 * list of exactly the interactions it counts; every chart has a table with the same numbers. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var COLORS = {
    Positive: "#2e7d32",
    Negative: "#c62828",
    Neutral: "#1565c0",
    Mixed: "#ef8f00",
    absent: "#9e9e9e",
  };
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.size = 13;

  function open(link) {
    if (link) {
      window.location.assign(link);
    }
  }

  function pointer(event, elements) {
    event.native.target.style.cursor = elements.length ? "pointer" : "default";
  }

  // One dataset per sentiment, stacked: rows are data.series or data.topAgents.
  function stacked(canvas, rows, labels, horizontal) {
    if (!canvas || !rows.length) {
      return null;
    }
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: data.sentiments.map(function (key, index) {
          return {
            label: key,
            maxBarThickness: 48,
            backgroundColor: COLORS[key],
            data: rows.map(function (row) { return row.counts[index].count; }),
          };
        }),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        scales: {
          x: { stacked: true, beginAtZero: true, ticks: horizontal ? { precision: 0 } : { maxRotation: 60, autoSkip: true } },
          y: { stacked: true, beginAtZero: true, ticks: horizontal ? { autoSkip: false } : { precision: 0 } },
        },
        plugins: { legend: { position: "bottom" } },
        onHover: pointer,
        onClick: function (event, elements) {
          if (elements.length) {
            open(rows[elements[0].index].counts[elements[0].datasetIndex].link);
          }
        },
      },
    });
  }

  stacked(
    document.getElementById("series-chart"),
    data.series,
    // Weeks are labelled by their Monday ("Week of" is in the table and the title).
    data.series.map(function (row) { return data.interval === "week" ? row.start : row.label; }),
    false
  );
  stacked(
    document.getElementById("agents-chart"),
    data.topAgents,
    data.topAgents.map(function (row) { return row.agentName; }),
    true
  );

  var share = document.getElementById("share-chart");
  if (share && data.total) {
    new Chart(share, {
      type: "doughnut",
      data: {
        labels: data.share.map(function (cell) { return cell.sentiment; }),
        datasets: [{
          data: data.share.map(function (cell) { return cell.count; }),
          backgroundColor: data.share.map(function (cell) { return COLORS[cell.sentiment]; }),
        }],
      },
      options: {
        plugins: { legend: { position: "right" } },
        onHover: pointer,
        onClick: function (event, elements) {
          if (elements.length) {
            open(data.share[elements[0].index].link);
          }
        },
      },
    });
  }
})();
