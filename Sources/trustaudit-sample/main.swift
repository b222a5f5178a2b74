print("trustaudit-sample: under construction")
